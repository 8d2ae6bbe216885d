/**
 * `deno task train`: trains one SimCLR or CRL-TAC run.
 *
 * @module
 */

import { BACKEND_CHOICES } from "../src/backend.ts";
import { choiceOption, intOption, numberOption, parseCli, runMain, UsageError } from "../src/cli.ts";
import { ConfigError, METHODS, PROFILE_NAMES, resolveConfig, type TrainOverrides } from "../src/config.ts";
import { DATASET_NAMES } from "../src/data/dataset.ts";
import { train } from "../src/train/trainer.ts";

const USAGE = `
Usage: deno task train --profile smoke|paper --data shifted|original --method crltac|simclr
                       --seed N --out DIR [options]

Trains one run into DIR: checkpoint.bin (every epoch), log.jsonl (every iteration), and
summary.json (at the end). A profile sets the defaults below; any option overrides it.

  --resume             continue from DIR/checkpoint.bin (same final weights as a run never stopped)
  --epochs N           epochs over the training subset
  --batch N            images per iteration
  --train-size N       training images used (the first N of 60,000)
  --crops N            m: crops per image sampled from P(T|X) for the h-step
  --policy-crops N     uniform crops per image for the P-step
  --lr X               Adam step size of the encoder
  --policy-lr X        Adam step size of P(T|X)
  --lambda X           weight of the entropy H(T|X) in the P-step
  --beta X             inverse temperature (default 0.5 shifted, 1.0 original)
  --head-dim N         projection head width (50; 2 gives the paper's Fig. 6)
  --backend NAME       auto, wasm, webgpu or cpu (auto: webgpu on a real GPU, else wasm)
  --mnist DIR          read the MNIST idx files (optionally .gz) from DIR
  --stock-kernels      train with tfjs's own kernels and gradients instead of this package's
                       fast paths, to compare the two (webgpu or cpu backend; summary.json
                       says which were used). On Mesa's software WebGPU their filter
                       gradients are cut short past ~180 crops or 8 84×84 images per step,
                       so larger batches are refused there (src/train/stock_kernels.ts)
`;

await runMain(USAGE, async (args) => {
  const o = parseCli(args, {
    profile: { type: "string" },
    data: { type: "string" },
    method: { type: "string" },
    seed: { type: "string" },
    out: { type: "string" },
    resume: { type: "boolean" },
    epochs: { type: "string" },
    batch: { type: "string" },
    "train-size": { type: "string" },
    crops: { type: "string" },
    "policy-crops": { type: "string" },
    lr: { type: "string" },
    "policy-lr": { type: "string" },
    lambda: { type: "string" },
    beta: { type: "string" },
    "head-dim": { type: "string" },
    backend: { type: "string" },
    mnist: { type: "string" },
    "stock-kernels": { type: "boolean" },
  }).values;
  for (const required of ["profile", "data", "method", "seed", "out"] as const) {
    if (o[required] === undefined) throw new UsageError(`Missing --${required}`);
  }
  const int = (name: string, v: string | undefined, min = 1) => v === undefined ? undefined : intOption(name, v, min);
  const num = (name: string, v: string | undefined) => v === undefined ? undefined : numberOption(name, v);
  const overrides: TrainOverrides = {
    epochs: int("epochs", o.epochs),
    batch: int("batch", o.batch),
    trainSize: int("train-size", o["train-size"]),
    crops: int("crops", o.crops),
    policyCrops: int("policy-crops", o["policy-crops"]),
    lr: num("lr", o.lr),
    policyLr: num("policy-lr", o["policy-lr"]),
    lambda: num("lambda", o.lambda),
    beta: num("beta", o.beta),
    headDim: int("head-dim", o["head-dim"]),
    backend: o.backend === undefined ? undefined : choiceOption("backend", o.backend, BACKEND_CHOICES),
  };
  let config;
  try {
    config = resolveConfig(
      choiceOption("profile", o.profile!, PROFILE_NAMES),
      choiceOption("data", o.data!, DATASET_NAMES),
      choiceOption("method", o.method!, METHODS),
      intOption("seed", o.seed!),
      overrides,
    );
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
  const summary = await train(config, {
    dir: o.out!,
    resume: o.resume ?? false,
    ...(o.mnist ? { mnistDir: o.mnist } : {}),
    stockKernels: o["stock-kernels"] ?? false,
  });
  console.error(
    `trained in ${
      (summary.trainMs / 1000).toFixed(1)
    } s on ${summary.backend.backend}; weights sha256 ${summary.weightsSha256}`,
  );
  console.log(JSON.stringify(summary.final));
});
