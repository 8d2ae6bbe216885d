/**
 * What `deno task demo`'s server, page and training worker agree on: the server's paths and the
 * messages between the page and the worker. Types and names only, so that each of the three
 * bundles takes nothing else from the others.
 *
 * @module
 */

import type { TrainConfig } from "../config.ts";
import type { PolicySnapshot, StepRecord } from "../train/session.ts";

/** The paths the server answers. */
export const ROUTES = {
  page: "/",
  pageScript: "/page.js",
  worker: "/worker.js",
  /** Followed by the name of a tfjs wasm binary. */
  wasm: "/wasm/",
  /** Followed by the name of an MNIST idx file. */
  mnist: "/mnist/",
} as const;

/**
 * The settings the page's form edits, by their `deno task train` option names (`method`, `seed`,
 * `lambda`, `train-size`, …), as the text typed: the worker reads them as the command line
 * would, with the smoke profile's defaults for the rest.
 */
export type FormSettings = Readonly<Record<string, string>>;

/** The images whose P(t|x) the page draws. */
export interface HeatMapImages {
  /** Image side in pixels (84). */
  readonly side: number;
  /** Crops along one side of the crop grid (17). */
  readonly perSide: number;
  /** Each image, `side²` grey bytes. */
  readonly pixels: readonly Uint8Array[];
  /** The square where each image's digit sits. */
  readonly cells: readonly { readonly row: number; readonly col: number; readonly side: number }[];
  /** Each image's whole-digit crops: the crops inside its digit's cell. */
  readonly wholeDigit: readonly (readonly number[])[];
}

/** What the page tells the worker. */
export type PageMessage =
  | { readonly type: "start"; readonly settings: FormSettings }
  | { readonly type: "pause" }
  | { readonly type: "resume" };

/** What the worker tells the page. */
export type WorkerMessage =
  /** MNIST is loaded and checked: the form can start a run. */
  | { readonly type: "ready"; readonly defaults: FormSettings }
  /** What the worker is doing before training (loading, choosing a backend). */
  | { readonly type: "status"; readonly text: string }
  /**
   * A run started: its resolved config, the backend in words, its iterations, the `deno task
   * train` command of the same run, and the heat maps' images.
   */
  | {
    readonly type: "started";
    readonly config: TrainConfig;
    readonly backend: string;
    readonly iterations: number;
    readonly command: string;
    readonly images: HeatMapImages;
  }
  /** One iteration, with P(t|x) of the heat maps' images after it (null where P is fixed). */
  | { readonly type: "step"; readonly record: StepRecord; readonly snapshot: PolicySnapshot | null }
  | { readonly type: "paused" }
  | { readonly type: "done" }
  /** A setting is bad (one line, as the command line says it): the form may be corrected and started again. */
  | { readonly type: "rejected"; readonly message: string }
  /** The run failed or could not start: another needs a new worker. */
  | { readonly type: "error"; readonly message: string };
