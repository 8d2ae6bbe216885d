/**
 * `deno task landscape`: objective (2) computed exactly for a trained run's encoder at its own
 * P(T|X) and at fixed crop distributions (src/eval/landscape.ts).
 *
 * @module
 */

import { int, parseCli, runMain, UsageError } from "../src/cli.ts";
import { checkMnistFolder } from "../src/data/mnist.ts";
import { PROFILES } from "../src/config.ts";
import { curvePath, landscapeCurve, landscapeOfRun } from "../src/eval/landscape.ts";
import { checkInputFolder, writeFileAtomic } from "../src/files.ts";
import { lockFolder } from "../src/lock.ts";
import { landscapeCurveFigure } from "../src/report/charts.ts";
import { curveMarkdown, landscapeMarkdown } from "../src/report/landscape_report.ts";
import { loadCheckpoint } from "../src/train/checkpoint.ts";
import { runFiles } from "../src/train/run_folder.ts";
import { listSnapshots, loadSnapshot, snapshotPath } from "../src/train/run_snapshot.ts";

const USAGE = `
Usage: deno task landscape --run DIR [--images N] [--batch N] [--mnist DIR]

For the encoder of the trained run in DIR, on its first N training images (every crop of each,
no sampling, each crop's own term kept, the denominator over every crop of every image of a
batch), computes objective (2) I(P), H(T|X) and I + λH of: the run's P(T|X), its argmax (one
crop per image), uniform, the 9 whole-digit crops, the centre crop, all non-empty crops, one
partial crop and one empty crop; and the λ from which the whole-digit crops would score higher
than the run's P. Writes DIR/landscape.json and prints the table.

Where the run kept snapshots (train --snapshots), the same after each snapshot, on the same
images: DIR/landscape-curve.json (per snapshot: I and H of each distribution, the gap
I(centre) − I(whole digits), the λ window in which the whole-digit crops beat both the centre
crop and uniform) and DIR/landscape-curve.svg (the gap and the window against iterations,
log-log, λ·ln 9 at the run's λ marked). Entries already computed on the same images are kept.
A run still training (or stopped part-way) gets the curve of the snapshots it has so far.

  --run DIR            a trained run
  --images N           training images (the first N; default: the run profile's, 256 at medium)
  --batch N            images per batch, one expectation over X' each (default: the run's batch)
  --mnist DIR          read the MNIST idx files (optionally .gz) from DIR
`;

await runMain(USAGE, async (args) => {
  const o = parseCli(args, {
    run: { type: "string", required: true },
    images: { type: "string", parse: int(2) },
    batch: { type: "string", parse: int(2) },
    mnist: { type: "string" },
  }).values;
  await checkMnistFolder(o.mnist);
  await checkInputFolder(o.run, "run folder");
  // A run still in its first epoch has snapshots and no checkpoint yet: its curve can be drawn.
  const saved = await loadCheckpoint(runFiles(o.run).checkpoint);
  const first = (await listSnapshots(o.run))[0];
  const config = saved?.config ?? (first ? (await loadSnapshot(snapshotPath(o.run, first))).config : null);
  if (!config) {
    throw new UsageError(`Cannot read the run folder ${o.run}: it holds no checkpoint.bin (train the run first)`);
  }
  const images = o.images ?? PROFILES[config.profile].eval.landscapeImages;
  if (images > config.trainSize) {
    throw new UsageError(`--images ${images}: the run trained on ${config.trainSize} images`);
  }
  const options = {
    images,
    ...(o.batch ? { batch: o.batch } : {}),
    ...(o.mnist ? { mnistDir: o.mnist } : {}),
  };
  const finished = saved !== null && saved.epoch >= saved.config.epochs;
  if (finished) {
    // Released on exit; a training of the same folder would change the weights under the landscape.
    await lockFolder(o.run, "run folder");
    const result = await landscapeOfRun(o.run, options);
    console.log(landscapeMarkdown(result));
    console.error(`computed in ${(result.ms / 1000).toFixed(1)} s; wrote ${o.run}/landscape.json`);
  }
  // Snapshots are written once and never change: the curve needs no lock, and can follow a run
  // while it trains.
  const curve = await landscapeCurve(o.run, options);
  if (curve) {
    const svg = `${o.run}/landscape-curve.svg`;
    await writeFileAtomic(svg, new TextEncoder().encode(await landscapeCurveFigure(curve)));
    console.log(curveMarkdown(curve));
    console.error(`wrote ${curvePath(o.run)} and ${svg}`);
  } else if (!finished) {
    throw new UsageError(
      `--run ${o.run}: its training stopped at epoch ${
        saved!.epoch
      } of ${config.epochs} and it has no snapshots (resume it first)`,
    );
  }
});
