/**
 * `deno task evaluate`: evaluates a trained run, or the raw-pixel baseline.
 *
 * @module
 */

import { choice, parseCli, runMain, UsageError } from "../src/cli.ts";
import { PROFILE_NAMES, PROFILES } from "../src/config.ts";
import { DATASET_NAMES } from "../src/data/dataset.ts";
import { checkMnistFolder } from "../src/data/mnist.ts";
import { evaluateRaw, evaluateRun, FEATURES_FOLDER } from "../src/eval/evaluate.ts";
import { runFigures } from "../src/report/run_figures.ts";
import { checkFolder, checkOutputFile, writeFileAtomic } from "../src/files.ts";
import { lockFolder } from "../src/lock.ts";
import { readRaw } from "../src/study/results.ts";
import { runCheckpoint } from "../src/train/run_folder.ts";

const USAGE = `
Usage: deno task evaluate --run DIR [--save-features DIR] [--mnist DIR]
       deno task evaluate --raw ${DATASET_NAMES.join("|")} --profile ${PROFILE_NAMES.join("|")} [--out FILE]

  --run DIR            a trained run: writes DIR/eval.json (probe accuracies with their
                       convergence, under this package's protocol and the paper's, crop
                       concentration, uniformity, timings) and DIR/figures/; the probe sizes
                       are those of the run's profile
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
    "save-features": { type: "string", needs: "run" },
    raw: { type: "string", parse: choice(DATASET_NAMES) },
    // A run's profile is the one it was trained with.
    profile: { type: "string", parse: choice(PROFILE_NAMES), needs: "raw" },
    mnist: { type: "string" },
    out: { type: "string", needs: "raw" },
  }).values;
  if ((o.run === undefined) === (o.raw === undefined)) throw new UsageError("give exactly one of --run and --raw");
  await checkMnistFolder(o.mnist);
  if (o.raw !== undefined) {
    if (o.profile === undefined) throw new UsageError("missing --profile (--raw probes at a profile's sizes)");
    if (o.out) await checkOutputFile(o.out, "result file", (path) => readRaw(path).then(Boolean, () => false));
    const result = await evaluateRaw(o.raw, PROFILES[o.profile].eval, o.mnist);
    const json = JSON.stringify(result, null, 2) + "\n";
    if (o.out) await writeFileAtomic(o.out, new TextEncoder().encode(json));
    else console.log(json.trimEnd());
    return;
  }
  const saved = await runCheckpoint(o.run!);
  if (o["save-features"]) await checkFolder(o["save-features"], FEATURES_FOLDER);
  // Released on exit; a training of the same folder would change the weights under the evaluation.
  await lockFolder(o.run!, "run folder");
  const result = await evaluateRun(o.run!, {
    eval: PROFILES[saved.config.profile].eval,
    figures: runFigures,
    ...(o.mnist ? { mnistDir: o.mnist } : {}),
    ...(o["save-features"] ? { saveFeaturesDir: o["save-features"] } : {}),
  });
  const summary = Object.fromEntries(Object.entries(result.probes).map(([k, v]) => [k, v.accuracy]));
  console.error(`evaluated in ${(result.ms / 1000).toFixed(1)} s; wrote ${o.run}/eval.json`);
  console.log(
    JSON.stringify({
      probes: summary,
      concentration: result.crops.concentration,
      uniformity: result.uniformity.potential,
    }),
  );
});
