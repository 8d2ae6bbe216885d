import assert from "node:assert/strict";
import { readOutputs, relativeError, stepError } from "../../src/kernels/agreement.ts";
import { tf } from "../../src/tf.ts";

await tf.setBackend("wasm");

Deno.test("relativeError() is the largest difference over the reference's largest magnitude", () => {
  assert.equal(relativeError([1, 2, -4], [1, 2, -4]), 0);
  assert.equal(relativeError([1.5, 2, -4], [1, 2, -4]), 0.5 / 4);
  // An all-zero reference leaves the absolute difference.
  assert.equal(relativeError([0.25, 0], [0, 0]), 0.25);
  // A NaN is not hidden by Math.max: it makes the error NaN, which no tolerance accepts.
  assert.ok(Number.isNaN(relativeError([NaN, 1], [1, 1])));
  assert.throws(() => relativeError([1], [1, 2]), RangeError);
});

Deno.test("stepError() takes the worst tensor against its own scale, and a loss against max(1, |loss|)", () => {
  const a = [Float32Array.of(1, 2), Float32Array.of(100, 0)];
  const b = [Float32Array.of(1, 2), Float32Array.of(100, 1)];
  assert.equal(stepError(a, b), 1 / 100);
  assert.equal(stepError([a[0]!], [b[0]!]), 0);
  // A loss of 1e-3 off by 1e-7 is float32 rounding of its O(1) terms, not a relative error of 1e-4.
  assert.ok(Math.abs(stepError([Float32Array.of(0.0010001)], [Float32Array.of(0.001)]) - 1e-7) < 1e-12);
  assert.equal(stepError([Float32Array.of(30)], [Float32Array.of(20)]), 0.5);
  assert.ok(Number.isNaN(stepError([Float32Array.of(NaN)], [Float32Array.of(1)])));
  assert.throws(() => stepError(a, [b[0]!]), RangeError);
});

Deno.test("readOutputs() reads every tensor back and leaves none behind", async () => {
  const before = tf.memory().numTensors;
  const [x, y] = await readOutputs(() => {
    const t = tf.tensor1d([1, 2, 3]);
    return [tf.mul(t, 2), tf.sum(t)];
  });
  assert.deepEqual([...x!], [2, 4, 6]);
  assert.deepEqual([...y!], [6]);
  assert.deepEqual([...(await readOutputs(() => tf.scalar(7)))[0]!], [7]);
  assert.equal(tf.memory().numTensors, before);
});
