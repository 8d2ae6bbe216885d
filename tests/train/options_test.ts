import assert from "node:assert/strict";
import { parseCli } from "../../src/cli.ts";
import {
  CONFIG_FIELDS,
  ConfigError,
  EXPERIMENT_KEYS,
  FIELD_KEYS,
  resolveConfig,
  type TrainOverrides,
} from "../../src/config.ts";
import { configErrorText, overrideArgs, overrideSpecs, overrideUsage, readOverrides } from "../../src/train/options.ts";

Deno.test("overrides written as arguments read back as the same overrides", () => {
  const overrides: TrainOverrides = {
    epochs: 3,
    trainSize: 8192,
    policyEstimator: "exact-own",
    policySelf: true,
    warmup: 32,
    policyEvery: 4,
    lambda: 0.0035,
    policyLr: 3e-4,
    backend: "wasm",
  };
  const args = overrideArgs(overrides);
  assert.ok(args.includes("--policy-self") && args.includes("--policy-estimator"));
  const read = readOverrides(parseCli(args, overrideSpecs()).values);
  assert.deepEqual(Object.fromEntries(Object.entries(read).filter(([, v]) => v !== undefined)), overrides);
  // A switch turned off is written, and read, as --no-<flag>.
  assert.deepEqual(overrideArgs({ policySelf: false }), ["--no-policy-self"]);
  assert.equal(readOverrides(parseCli(["--no-policy-self"], overrideSpecs()).values).policySelf, false);
});

Deno.test("every overridable config field has an option and a line in --help", () => {
  const config = resolveConfig("smoke", "shifted", "crltac", 0);
  const fields = Object.keys(config).filter((k) => !["profile", "data", "method", "seed"].includes(k)).sort();
  assert.deepEqual([...FIELD_KEYS].sort(), fields);
  for (const k of FIELD_KEYS) assert.match(overrideUsage(), new RegExp(`--(\\[no-\\])?${CONFIG_FIELDS[k].flag}\\b`));
});

Deno.test("--help lists the experiments' options after the paper's, under a line of their own", () => {
  const lines = overrideUsage().split("\n");
  const heading = lines.findIndex((l) => l.startsWith("  Experiments beside the paper"));
  const at = (k: (typeof FIELD_KEYS)[number]) =>
    lines.findIndex((l) => new RegExp(`^  --(\\[no-\\])?${CONFIG_FIELDS[k].flag}\\b`).test(l));
  assert.ok(heading > 0);
  for (const k of FIELD_KEYS) {
    assert.ok((at(k) > heading) === EXPERIMENT_KEYS.includes(k as (typeof EXPERIMENT_KEYS)[number]), k);
  }
  // Their defaults are the paper's method.
  const paper = resolveConfig("paper", "shifted", "crltac", 0);
  assert.deepEqual(EXPERIMENT_KEYS.map((k) => paper[k]), ["sampled", false, 0, 0, 1]);
});

Deno.test("a config error names the option as given, or says the value came from the profile", () => {
  const fail = (overrides: TrainOverrides) => {
    try {
      resolveConfig("smoke", "shifted", "crltac", 0, overrides);
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return configErrorText(e, overrides);
    }
    throw new Error("no error");
  };
  assert.equal(fail({ batch: 4096 }), "--batch 4096: must not exceed trainSize (2048)");
  assert.equal(fail({ trainSize: 32 }), "batch = 64 (from the profile): must not exceed trainSize (32)");
});
