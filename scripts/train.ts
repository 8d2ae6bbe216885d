/**
 * `deno task train`: trains one run (CRL-TAC, SimCLR or the oracle ablation).
 *
 * @module
 */

import { choice, int, list, parseCli, runMain, UsageError } from "../src/cli.ts";
import { ConfigError, METHODS, PROFILE_NAMES, resolveConfig } from "../src/config.ts";
import { configErrorText, overrideSpecs, overrideUsage, readOverrides, seedParser } from "../src/train/options.ts";
import { DATASET_NAMES } from "../src/data/dataset.ts";
import { SHORT_RUN } from "../src/train/run_snapshot.ts";
import { trainJob } from "../src/jobs/jobs.ts";

const USAGE = `
Usage: deno task train --profile ${PROFILE_NAMES.join("|")} --data ${DATASET_NAMES.join("|")}
                       --method ${METHODS.join("|")} --seed N --out DIR [options]

Trains one run into DIR: checkpoint.bin (every epoch), log.jsonl (every iteration), and
summary.json (at the end). DIR must be new, empty, or a run folder of this package (a folder
holding anything else is refused). A profile sets the defaults below (in brackets); any option
overrides it. Methods: crltac learns P(T|X), simclr keeps it uniform, oracle (an ablation, not
in the paper) fixes it on the 9 crops inside each image's digit cell.

  --resume             continue from DIR/checkpoint.bin (same final weights as a run never stopped;
                       Ctrl-C stops a run after the iteration under way, with a checkpoint of it)
  --snapshots LIST     iterations after which DIR/snapshots/step-N.bin keeps the encoder (and
                       CRL-TAC's P(t|x) of the landscape's images), for \`deno task landscape\`'s
                       curve: comma-separated iterations, or none (default: 32, 64, 128, … and
                       the last iteration, for runs of more than ${SHORT_RUN} iterations)
${overrideUsage()}
  --mnist DIR          read the MNIST idx files (optionally .gz) from DIR
  --stock-kernels      train with tfjs's own kernels and gradients instead of this package's
                       fast paths, to compare the two (webgpu or cpu backend; summary.json
                       says which were used). On Mesa's software WebGPU their filter
                       gradients are cut short past ~180 crops or 8 84×84 images per step,
                       so larger batches are refused there (src/kernels/stock_kernels.ts)
`;

await runMain(USAGE, async (args) => {
  const o = parseCli(args, {
    profile: { type: "string", parse: choice(PROFILE_NAMES), required: true },
    data: { type: "string", parse: choice(DATASET_NAMES), required: true },
    method: { type: "string", parse: choice(METHODS), required: true },
    seed: { type: "string", parse: seedParser(), required: true },
    out: { type: "string", required: true },
    resume: { type: "boolean" },
    snapshots: {
      type: "string",
      parse: (text, flag) => text === "none" ? [] : list(int(1, "an iteration"))(text, flag),
    },
    ...overrideSpecs(),
    mnist: { type: "string" },
    "stock-kernels": { type: "boolean" },
  }).values;
  const overrides = readOverrides(o);
  let config;
  try {
    config = resolveConfig(o.profile, o.data, o.method, o.seed, overrides);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(configErrorText(e, overrides));
    throw e;
  }
  return await trainJob(config, {
    dir: o.out,
    resume: o.resume ?? false,
    ...(o.mnist ? { mnistDir: o.mnist } : {}),
    stockKernels: o["stock-kernels"] ?? false,
    ...(o.snapshots ? { snapshots: o.snapshots } : {}),
  });
});
