import assert from "node:assert/strict";
import {
  CONFIG_FIELDS,
  ConfigError,
  FIELD_KEYS,
  iterationsPerEpoch,
  METHODS,
  PROFILE_NAMES,
  PROFILES,
  resolveConfig,
} from "../src/config.ts";

Deno.test("resolveConfig() takes the profile, β by dataset, then the overrides", () => {
  const c = resolveConfig("smoke", "original", "crltac", 2, { lr: 0.01, batch: undefined });
  assert.equal(c.beta, 1.0);
  assert.equal(c.lr, 0.01);
  assert.equal(c.batch, PROFILES.smoke.train.batch);
  assert.equal(c.profile, "smoke");
  assert.equal(resolveConfig("paper", "shifted", "simclr", 0).beta, 0.5);
  assert.equal(resolveConfig("paper", "shifted", "simclr", 0, { beta: 2 }).beta, 2);
});

Deno.test("a seed past 2^32 − 1 is refused: the generator would fold it onto a smaller one", () => {
  assert.throws(
    () => resolveConfig("smoke", "shifted", "crltac", 2 ** 32),
    (e) => e instanceof ConfigError && e.message === "Config seed = 4294967296: must be an integer in 0..4294967295",
  );
  assert.equal(resolveConfig("smoke", "shifted", "crltac", 2 ** 32 - 1).seed, 4294967295);
});

Deno.test("resolveConfig() names the field and value it rejects", () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ batch: 1 }, /batch = 1: must be an integer in 2\.\.4096/],
    [{ batch: 4096 }, /batch = 4096: must not exceed trainSize \(2048\)/],
    [{ crops: 1 }, /crops = 1/],
    [{ lr: -1 }, /lr = -1: must be a positive number/],
    [{ lambda: Number.NaN }, /lambda/],
    [{ trainSize: 70000 }, /trainSize = 70000/],
    [{ epochs: 0.5 }, /epochs = 0.5/],
    [{ policyEvery: 0 }, /policyEvery = 0: must be an integer ≥ 1/],
  ];
  for (const [override, message] of bad) {
    assert.throws(
      () => resolveConfig("smoke", "shifted", "crltac", 0, override),
      (e) => e instanceof ConfigError && message.test(e.message),
    );
  }
});

Deno.test("each field's rule refuses the values just outside its range, naming that field", () => {
  for (const key of FIELD_KEYS) {
    const { value } = CONFIG_FIELDS[key];
    const bad = value.kind === "int"
      ? [value.min - 1, value.min + 0.5, ...(value.max === undefined ? [] : [value.max + 1])]
      : value.kind === "number"
      ? [value.exclusive ? value.min : value.min - 1e-9, Number.NaN, Number.POSITIVE_INFINITY]
      : value.kind === "choice"
      ? ["nope"]
      : ["yes"];
    for (const v of bad) {
      assert.throws(
        () => resolveConfig("smoke", "shifted", "crltac", 0, { [key]: v }),
        (e) => e instanceof ConfigError && e.field === key,
        `${key} = ${v}`,
      );
    }
  }
});

Deno.test("every profile is valid for every dataset and method", () => {
  for (const profile of PROFILE_NAMES) {
    for (const data of ["shifted", "original"] as const) {
      for (const method of METHODS) {
        assert.ok(iterationsPerEpoch(resolveConfig(profile, data, method, 0)) >= 1);
      }
    }
  }
});

Deno.test("the medium profile: an hour-scale CRL-TAC run on one core, λ by the paper's rule, probes on 5,000 / 5,000", () => {
  const c = resolveConfig("medium", "shifted", "crltac", 0);
  assert.deepEqual([c.trainSize, c.epochs, c.batch, iterationsPerEpoch(c) * c.epochs], [16_384, 3, 64, 768]);
  assert.deepEqual([c.lambda, c.beta, c.crops, c.policyEstimator], [0.001, 0.5, 8, "sampled"]);
  assert.deepEqual(PROFILES.medium.eval, {
    probeTrainSize: 5000,
    probeTestSize: 5000,
    uniformityPairs: 5000,
    landscapeImages: 256,
  });
  assert.deepEqual(PROFILES.medium.seeds, [0, 1, 2, 3]);
});
