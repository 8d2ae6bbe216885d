import assert from "node:assert/strict";
import { Prng } from "../../src/data/prng.ts";

Deno.test("Prng matches the xoshiro128** reference output for a known state", () => {
  // Values from the reference C implementation (prng.di.unimi.it) started from this state.
  const rng = Prng.fromState([2527132011, 314344336, 2535364964, 2041432039]);
  assert.deepEqual([rng.nextU32(), rng.nextU32(), rng.nextU32()], [
    2442144158,
    3238099751,
    3819917871,
  ]);
});

Deno.test("Prng.fromSeed gives different streams for different seeds and stream names", () => {
  const draw = (rng: Prng) => Array.from({ length: 4 }, () => rng.nextU32());
  const a = draw(Prng.fromSeed(1, "init"));
  assert.deepEqual(draw(Prng.fromSeed(1, "init")), a);
  assert.notDeepEqual(draw(Prng.fromSeed(2, "init")), a);
  assert.notDeepEqual(draw(Prng.fromSeed(1, "crops")), a);
});

Deno.test("Prng continues identically from a saved state", () => {
  const rng = Prng.fromSeed(42);
  rng.nextFloat();
  const copy = Prng.fromState(rng.state());
  for (let i = 0; i < 100; i++) assert.equal(copy.nextU32(), rng.nextU32());
});

Deno.test("Prng.nextInt stays in range and covers it evenly", () => {
  const rng = Prng.fromSeed(3);
  const counts = new Array(9).fill(0);
  for (let i = 0; i < 90_000; i++) counts[rng.nextInt(9)]++;
  for (const c of counts) assert.ok(Math.abs(c - 10_000) < 400, `count ${c}`);
  assert.throws(() => rng.nextInt(0), RangeError);
});

Deno.test("Prng.nextCategorical follows the given probabilities and skips zero bins", () => {
  const rng = Prng.fromSeed(5);
  const probs = [0, 0.25, 0, 0.75];
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 40_000; i++) counts[rng.nextCategorical(probs)]!++;
  assert.equal(counts[0], 0);
  assert.equal(counts[2], 0);
  assert.ok(Math.abs(counts[1]! / 40_000 - 0.25) < 0.01);
  assert.throws(() => rng.nextCategorical([0, 0]), RangeError);
});

Deno.test("Prng.nextNormal has mean 0 and variance 1", () => {
  const rng = Prng.fromSeed(9);
  let sum = 0, sq = 0;
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    const x = rng.nextNormal();
    sum += x;
    sq += x * x;
  }
  assert.ok(Math.abs(sum / n) < 0.01);
  assert.ok(Math.abs(sq / n - 1) < 0.02);
});
