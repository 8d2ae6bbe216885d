/**
 * `deno task evaluate`: evaluates a trained run, or the raw-pixel baseline.
 *
 * @module
 */

import { choice, int, parseCli, runMain, UsageError } from "../src/cli.ts";
import { PROFILE_NAMES } from "../src/config.ts";
import { DATASET_NAMES } from "../src/data/dataset.ts";
import { evaluateRunJob, rawJob } from "../src/jobs/jobs.ts";

const USAGE = `
Usage: deno task evaluate --run DIR [--at ITERATION] [--save-features DIR] [--mnist DIR]
       deno task evaluate --raw ${DATASET_NAMES.join("|")} --profile ${PROFILE_NAMES.join("|")} [--out FILE]

  --run DIR            a trained run: writes DIR/eval.json (probe accuracies with their
                       convergence, under this package's protocol and the paper's, crop
                       concentration, uniformity, timings) and DIR/figures/; the probe sizes
                       are those of the run's profile
  --at ITERATION       evaluate the run's snapshot after ITERATION instead (oracle and SimCLR
                       runs, whose P is fixed; a CRL-TAC snapshot lacks P's network), while the
                       run trains or after: writes DIR/snapshots/step-NNNNNN.eval.json, no figures
  --save-features DIR  also write the features and labels as raw little-endian arrays with
                       DIR/manifest.json, for probing them in another tool; DIR must be new,
                       empty, or features saved there before, which are replaced (a folder
                       holding anything else is refused)
  --raw DATA           the raw-pixel baseline on DATA at the profile's probe sizes: prints JSON,
                       or writes it to --out FILE (new, or a baseline written there before)
  --mnist DIR          read the MNIST idx files (optionally .gz) from DIR
`;

await runMain(USAGE, async (args) => {
  const o = parseCli(args, {
    run: { type: "string" },
    at: { type: "string", parse: int(1, "an iteration"), needs: "run" },
    "save-features": { type: "string", needs: "run" },
    raw: { type: "string", parse: choice(DATASET_NAMES) },
    // A run's profile is the one it was trained with.
    profile: { type: "string", parse: choice(PROFILE_NAMES), needs: "raw" },
    mnist: { type: "string" },
    out: { type: "string", needs: "raw" },
  }).values;
  if ((o.run === undefined) === (o.raw === undefined)) throw new UsageError("give exactly one of --run and --raw");
  if (o.raw !== undefined) {
    if (o.profile === undefined) throw new UsageError("missing --profile (--raw probes at a profile's sizes)");
    return await rawJob(o.raw, o.profile, o.out, o.mnist);
  }
  await evaluateRunJob(o.run!, { at: o.at, saveFeaturesDir: o["save-features"], mnistDir: o.mnist });
});
