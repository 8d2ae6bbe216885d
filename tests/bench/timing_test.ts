import assert from "node:assert/strict";
import { kernelProfile, timed, timeMedian } from "../../src/bench/timing.ts";
import { biasAdd, conv2d } from "../../src/kernels/ops.ts";
import { type Rank, tf } from "../../src/tf.ts";

await tf.setBackend("wasm");

Deno.test("kernelProfile() groups a step's kernels by name and input shapes, costliest first", async () => {
  const a = tf.randomNormal([64, 32]), b = tf.randomNormal([32, 16]);
  const before = tf.memory().numTensors;
  const kernels = await kernelProfile(() => [tf.matMul(a, b), tf.matMul(a, b), tf.relu(a)]);
  assert.equal(tf.memory().numTensors, before);
  const product = kernels.find((k) => k.kernel === "BatchMatMul" || k.kernel === "_FusedMatMul");
  assert.ok(product, kernels.map((k) => k.kernel).join());
  assert.equal(product.calls, 2);
  assert.equal(product.inputShapes, "[64,32] [32,16]");
  assert.ok(kernels.some((k) => k.kernel === "Relu" && k.calls === 1));
  for (let i = 1; i < kernels.length; i++) assert.ok(kernels[i - 1]!.ms >= kernels[i]!.ms);
  tf.dispose([a, b]);
});

Deno.test("kernelProfile() counts kernels only, not the custom-gradient wrappers around them", async () => {
  const x = tf.randomNormal<Rank.R4>([8, 6, 6, 2]), w = tf.randomNormal<Rank.R4>([3, 3, 2, 4]);
  const b = tf.randomNormal([4]);
  const kernels = await kernelProfile(() => [biasAdd(conv2d(x, w, { stride: 1 }), b)]);
  const names = kernels.map((k) => k.kernel);
  assert.ok(names.includes("Conv2D"), names.join());
  for (const name of names) assert.ok(tf.getKernel(name, "wasm"), `${name} is not a kernel`);
  tf.dispose([x, w, b]);
});

Deno.test("timeMedian() runs two warm-ups, then takes the median of the timed runs", async () => {
  let calls = 0;
  const ms = await timeMedian(async () => {
    calls++;
    await new Promise((r) => setTimeout(r, calls === 4 ? 300 : 1));
  }, 3);
  assert.equal(calls, 5);
  assert.ok(ms < 200, `median ${ms} ms should ignore the one slow run`);
  const before = tf.memory().numTensors;
  await timed(() => [tf.ones([3]), tf.scalar(2)])();
  assert.equal(tf.memory().numTensors, before);
});
