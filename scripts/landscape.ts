/**
 * `deno task landscape`: objective (2) computed exactly for a trained run's encoder at its own
 * P(T|X) and at fixed crop distributions (src/eval/landscape.ts).
 *
 * @module
 */

import { int, parseCli, runMain, UsageError } from "../src/cli.ts";
import { checkMnistFolder } from "../src/data/mnist.ts";
import { PROFILES } from "../src/config.ts";
import { landscapeOfRun } from "../src/eval/landscape.ts";
import { lockFolder } from "../src/lock.ts";
import { landscapeMarkdown } from "../src/report/landscape_report.ts";
import { runCheckpoint } from "../src/train/run_folder.ts";

const USAGE = `
Usage: deno task landscape --run DIR [--images N] [--batch N] [--mnist DIR]

For the encoder of the trained run in DIR, on its first N training images (every crop of each,
no sampling, each crop's own term kept, the denominator over every crop of every image of a
batch), computes objective (2) I(P), H(T|X) and I + λH of: the run's P(T|X), its argmax (one
crop per image), uniform, the 9 whole-digit crops, the centre crop, all non-empty crops, one
partial crop and one empty crop; and the λ from which the whole-digit crops would score higher
than the run's P. Writes DIR/landscape.json and prints the table.

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
  const saved = await runCheckpoint(o.run);
  const images = o.images ?? PROFILES[saved.config.profile].eval.landscapeImages;
  if (images > saved.config.trainSize) {
    throw new UsageError(`--images ${images}: the run trained on ${saved.config.trainSize} images`);
  }
  // Released on exit; a training of the same folder would change the weights under the landscape.
  await lockFolder(o.run, "run folder");
  const result = await landscapeOfRun(o.run, {
    images,
    ...(o.batch ? { batch: o.batch } : {}),
    ...(o.mnist ? { mnistDir: o.mnist } : {}),
  });
  console.log(landscapeMarkdown(result));
  console.error(`computed in ${(result.ms / 1000).toFixed(1)} s; wrote ${o.run}/landscape.json`);
});
