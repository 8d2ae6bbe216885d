/**
 * The figures of one evaluated run, drawn for `evaluate` ({@linkcode runFigures} is the
 * `figures` option of `evaluateRun`): the paper's Figs. 3, 7, 8 (and 6 with a 2-d head), and for
 * CRL-TAC where P(T|X) went during training — its heat maps at the recorded steps and its
 * statistics per iteration.
 *
 * @module
 */

import { cropGrid } from "../data/crops.ts";
import { cellSquare, renderImageBytes } from "../data/dataset.ts";
import type { FigureInput } from "../eval/evaluate.ts";
import { readJsonLines, runFiles } from "../train/run_folder.ts";
import type { PolicySnapshot, StepRecord } from "../train/trainer.ts";
import {
  scatter2dFigure,
  sortedInnerProductsFigure,
  superimposedRepresentationsFigure,
  trainingCurvesFigure,
} from "./charts.ts";
import { cropHeatmapFigure, policyTrainingFigure } from "./heatmaps.ts";
import { METHOD_WORDS } from "./report.ts";

/** Draws the run's figures: file contents by name under `figures/`. */
export async function runFigures(input: FigureInput): Promise<Record<string, string | Uint8Array>> {
  const { config, test, probs, head } = input;
  const side = test.side;
  const grid = cropGrid(side);
  const count = test.count;
  const files: Record<string, string | Uint8Array> = {};
  const image = (i: number) => renderImageBytes(test, i, new Uint8Array(side * side));
  const shown = Math.min(8, count);
  const label = `${METHOD_WORDS[config.method]}, ${config.data} MNIST, seed ${config.seed}`;
  files["fig3-crop-heatmaps.png"] = cropHeatmapFigure(
    Array.from({ length: shown }, (_, i) => image(i)),
    side,
    Array.from({ length: shown }, (_, i) => probs.slice(i * grid.count, (i + 1) * grid.count)),
    grid.perSide,
  );
  const reps = Array.from(
    { length: Math.min(200, count) },
    (_, i) => head.slice(i * config.headDim, (i + 1) * config.headDim),
  );
  files["fig7-representations.svg"] = await superimposedRepresentationsFigure(
    reps,
    `200 head representations (${label})`,
    { yDomain: [-1, 1] },
  );
  files["fig8-inner-products.svg"] = await sortedInnerProductsFigure([{ label, values: input.innerProducts }]);
  if (config.headDim === 2) {
    files["fig6-scatter.svg"] = await scatter2dFigure(head, input.labels, `2-d head representations (${label})`);
  }
  if (config.method !== "crltac") return files;

  const paths = runFiles(input.dir);
  const log = await readJsonLines<StepRecord>(paths.log);
  if (log.length > 0) {
    files["policy-training-curves.svg"] = await trainingCurvesFigure(
      log,
      `P(T|X) during training (${label})`,
      grid.count,
    );
  }
  const snapshots = (await readJsonLines<PolicySnapshot>(paths.snapshots)).filter((s) =>
    s.images.every((i) => i < count)
  );
  if (snapshots.length > 0 && side === 84) {
    const indices = snapshots[0]!.images;
    const perImage = (s: PolicySnapshot) =>
      indices.map((_, k) => Float32Array.from(s.probs.slice(k * grid.count, (k + 1) * grid.count)));
    files["policy-over-training.png"] = policyTrainingFigure(
      indices.map(image),
      side,
      indices.map((i) => cellSquare(test, i)),
      snapshots.map((s) => ({ step: s.step, probs: perImage(s) })),
    );
  }
  return files;
}
