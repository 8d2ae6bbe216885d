import assert from "node:assert/strict";
import { CHECK_TOLERANCE, checkAgainst, type OpCheck, opChecks } from "../../src/bench/checks.ts";
import { benchSteps } from "../../src/bench/steps.ts";
import { loadDataset, takeFirst } from "../../src/data/dataset.ts";
import { Prng } from "../../src/data/prng.ts";
import { tf } from "../../src/tf.ts";

await tf.setBackend("wasm");
const ds = takeFirst(await loadDataset("shifted", "train"), 4);

Deno.test("opChecks() covers every layer of both networks at the step's batch", () => {
  const checks = opChecks(16, 2);
  assert.deepEqual(checks.map((c) => `${c.step} ${c.name}`), [
    "h_step f/conv1",
    "h_step f/conv2",
    "h_step f/conv3",
    "h_step f/dense",
    "h_step g/dense1",
    "h_step g/dense2",
    "p_step p/conv1",
    "p_step p/conv2",
    "p_step p/pool",
    "p_step p/fc1",
    "p_step p/fc2",
  ]);
});

Deno.test("checkAgainst() finds wasm equal to cpu, and a backend that computes otherwise", async () => {
  const withSteps = benchSteps(ds, { h: 2, p: 2, exact: 2, all: 2 }, Prng.fromSeed(1, "test"));
  const before = tf.memory().numTensors;
  const result = await checkAgainst("cpu", withSteps, opChecks(16, 2));
  assert.equal(tf.getBackend(), "wasm", "the backend is restored");
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(Object.keys(result.steps).sort(), ["all_crops", "h_step", "p_step", "p_step_exact_own"]);
  for (const [name, e] of Object.entries(result.steps)) assert.ok(e <= CHECK_TOLERANCE, `${name}: ${e}`);
  assert.equal(result.ops.length, 11);

  const wrong: OpCheck = {
    step: "p_step",
    name: "off by half on wasm",
    run: () => [tf.scalar(tf.getBackend() === "wasm" ? 3 : 2)],
  };
  const caught = await checkAgainst("cpu", withSteps, [wrong]);
  assert.equal(caught.ops[0]!.error, 0.5);
  assert.equal(caught.steps.p_step, 0.5);
  assert.ok(caught.steps.h_step <= CHECK_TOLERANCE);
});
