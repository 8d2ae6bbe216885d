/**
 * `deno task landscape`: objective (2) computed exactly for a trained run's encoder at its own
 * P(T|X) and at fixed crop distributions (src/eval/landscape.ts).
 *
 * @module
 */

import { int, parseCli, runMain } from "../src/cli.ts";
import { landscapeJob } from "../src/jobs/jobs.ts";

const USAGE = `
Usage: deno task landscape --run DIR [--at ITERATION] [--images N] [--batch N] [--mnist DIR]

For the encoder of the trained run in DIR, on its first N training images (every crop of each,
no sampling, each crop's own term kept, the denominator over every crop of every image of a
batch), computes objective (2) I(P), H(T|X) and I + λH of: the run's P(T|X), its argmax (one
crop per image), uniform, the 9 whole-digit crops, the centre crop, all non-empty crops, one
partial crop and one empty crop; the λ from which the whole-digit crops would score higher
than the run's P; and the gap I(centre) − I(whole digits) with its standard error from the
spread of the batches' gaps. Writes DIR/landscape.json and prints the table.

Where the run kept snapshots (train --snapshots), the same after each snapshot, on the same
images: DIR/landscape-curve.json (per snapshot: I and H of each distribution, the gap
I(centre) − I(whole digits) and its standard error from the spread of the batches' gaps, the λ
window in which the whole-digit crops beat both the centre crop and uniform) and
DIR/landscape-curve.svg (the gap with ± 2 standard errors and the window against iterations,
log-log, λ·ln 9 at the run's λ marked; beside the curve's gaps, those of the snapshots measured
alone with --at on other images). Entries already computed on the same images are kept;
a curve on other images or batches is replaced, unless some of its snapshots are gone (then
it is refused).
A run still training (or stopped part-way) gets the curve of the snapshots it has so far.

  --run DIR            a trained run
  --at ITERATION       the landscape of the run's snapshot after ITERATION alone, while the run
                       trains or after (CRL-TAC's on at most the images its snapshot kept P(t|x)
                       of): writes DIR/snapshots/step-NNNNNN.landscape.json and draws the
                       curve's figure again with it, computing no curve. One point of the curve
                       on more images than the curve's, for a smaller error
  --images N           training images (the first N; default: the run profile's, 256 at medium)
  --batch N            images per batch, one expectation over X' each (default: the run's batch)
  --mnist DIR          read the MNIST idx files (optionally .gz) from DIR
`;

await runMain(USAGE, async (args) => {
  const o = parseCli(args, {
    run: { type: "string", required: true },
    at: { type: "string", parse: int(1, "an iteration") },
    images: { type: "string", parse: int(2) },
    batch: { type: "string", parse: int(2) },
    mnist: { type: "string" },
  }).values;
  await landscapeJob(o.run, { at: o.at, images: o.images, batch: o.batch, mnistDir: o.mnist });
});
