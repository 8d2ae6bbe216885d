/**
 * Choosing the tfjs backend. `auto` takes WebGPU on a real GPU adapter and tfjs's wasm backend
 * (SIMD, XNNPACK) otherwise: on CPU-only machines WebGPU runs on Mesa's software rasteriser,
 * 10–20× slower than wasm (see REPRODUCE.md, performance notes).
 *
 * @module
 */

import { tf } from "./tf.ts";

/** A backend this package can train on. */
export type BackendName = "wasm" | "webgpu" | "cpu";

/** Every backend name, and `auto`. */
export const BACKEND_CHOICES = ["auto", "wasm", "webgpu", "cpu"] as const;

/** A backend choice as the command line takes it. */
export type BackendChoice = typeof BACKEND_CHOICES[number];

/** What was chosen, for logs and results. */
export interface BackendInfo {
  /** The tfjs backend in use. */
  readonly backend: BackendName;
  /** The WebGPU adapter's description, when there is one. */
  readonly adapter: string | null;
  /** Whether that adapter is a software fallback (Mesa llvmpipe or lavapipe). */
  readonly fallbackAdapter: boolean | null;
  /** Versions of tfjs and Deno. */
  readonly versions: Readonly<Record<string, string>>;
}

/**
 * Gives Mesa's Wayland probe a runtime folder when the environment has none: without one, every
 * first WebGPU adapter request on a headless machine printed "XDG_RUNTIME_DIR is invalid or not
 * set in the environment" twice, noise on a compute node. A private folder per user, kept for
 * the next run. Only where the env, sys and write permissions it takes are granted already: a
 * program importing this package may grant fewer, and a notice is better than a permission prompt.
 */
function quietWaylandProbe(): void {
  const needs: Deno.PermissionDescriptor[] = [{ name: "env" }, { name: "sys", kind: "uid" }, { name: "write" }];
  if (Deno.build.os !== "linux" || !needs.every((p) => Deno.permissions.querySync(p).state === "granted")) return;
  if (Deno.env.get("XDG_RUNTIME_DIR")) return;
  const dir = `${Deno.env.get("TMPDIR") ?? "/tmp"}/crl-tac-runtime-${Deno.uid() ?? "user"}`;
  try {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.env.set("XDG_RUNTIME_DIR", dir);
  } catch { /* without it the probe only prints its notice */ }
}

/** The WebGPU adapter, if any: its description and whether it is a software fallback. */
export async function probeAdapter(): Promise<{ description: string; fallback: boolean } | null> {
  quietWaylandProbe();
  const gpu = (navigator as { gpu?: GPU }).gpu;
  const adapter = await gpu?.requestAdapter().catch(() => null);
  if (!adapter) return null;
  return { description: adapter.info.description || adapter.info.vendor, fallback: adapter.info.isFallbackAdapter };
}

/**
 * Switches tfjs to the chosen backend.
 *
 * @param choice A backend, or `auto`.
 * @throws {Error} If the backend cannot be started (for example webgpu without an adapter).
 */
export async function useBackend(choice: BackendChoice = "auto"): Promise<BackendInfo> {
  const adapter = await probeAdapter();
  const backend: BackendName = choice !== "auto" ? choice : adapter && !adapter.fallback ? "webgpu" : "wasm";
  if (backend === "webgpu" && !adapter) {
    throw new Error("Cannot use the webgpu backend: this machine offers no WebGPU adapter");
  }
  if (!(await switchBackend(backend))) {
    const hint = backend === "wasm"
      ? ": inside a bundle, copy tfjs-backend-wasm-simd.wasm beside it (REPRODUCE.md, machines without the npm registry)"
      : "";
    throw new Error(`Cannot start the tfjs ${backend} backend${hint}`);
  }
  return {
    backend,
    adapter: adapter?.description ?? null,
    fallbackAdapter: adapter?.fallback ?? null,
    versions: { tfjs: tf.version.tfjs, deno: Deno.version.deno, v8: Deno.version.v8 },
  };
}

/**
 * Switches tfjs to `backend` and waits until it is ready, without Deno's APIs (a browser's page
 * chooses its backend with this too).
 *
 * @returns false if the backend cannot start.
 */
export async function switchBackend(backend: BackendName): Promise<boolean> {
  if (backend === "webgpu") {
    // tfjs's split-K matMul accumulates with atomics, so results vary run to run; program type 3
    // (MatMulPackedProgram) was as fast and deterministic (REPRODUCE.md, "Earlier measurements").
    tf.env().set("WEBGPU_MATMUL_PROGRAM_TYPE", 3);
  }
  if (!(await tf.setBackend(backend))) return false;
  await tf.ready();
  return true;
}

/** One line saying which backend runs and why, printed when a run starts. */
export function describeBackend(info: BackendInfo): string {
  if (info.backend === "webgpu") return `backend webgpu on ${info.adapter}`;
  const adapter = info.adapter === null
    ? "no WebGPU adapter"
    : `WebGPU adapter "${info.adapter}" is ${
      info.fallbackAdapter ? "a software fallback, slower than wasm" : "available (--backend webgpu)"
    }`;
  return `backend ${info.backend} (${adapter})`;
}
