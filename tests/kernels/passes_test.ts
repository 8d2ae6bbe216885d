import assert from "node:assert/strict";
import { passRanges } from "../../src/kernels/passes.ts";

Deno.test("passRanges() covers the batch in order with passes of at most perPass images", () => {
  for (const [n, perPass] of [[1, 1], [64, 74], [256, 74], [10, 3], [7, 7], [8, 1]]) {
    const passes = passRanges(n!, perPass!);
    let next = 0;
    for (const [start, size] of passes) {
      assert.equal(start, next);
      assert.ok(size >= 1 && size <= perPass!, `n ${n}, perPass ${perPass}: pass of ${size}`);
      next += size;
    }
    assert.equal(next, n);
    assert.equal(passes.length, Math.ceil(n! / perPass!));
  }
  assert.deepEqual(passRanges(256, 74), [[0, 64], [64, 64], [128, 64], [192, 64]]);
});
