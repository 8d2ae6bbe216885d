import assert from "node:assert/strict";
import { estimateStudySeconds, trainSecondsPerImage } from "../../src/study/estimate.ts";

Deno.test("a batch costs what the measured batch nearest to it costs per image", () => {
  assert.equal(trainSecondsPerImage("shifted/oracle", 64), trainSecondsPerImage("shifted/oracle", 100));
  assert.equal(trainSecondsPerImage("shifted/oracle", 256), trainSecondsPerImage("shifted/oracle", 200));
  assert.ok(trainSecondsPerImage("shifted/oracle", 256) > trainSecondsPerImage("shifted/oracle", 64));
  // Only batch 64 was measured on original MNIST.
  assert.equal(trainSecondsPerImage("original/simclr", 256), trainSecondsPerImage("original/simclr", 64));
  assert.throws(() => trainSecondsPerImage("original/oracle", 64), /original\/oracle/);
});

Deno.test("the paper profile's encoder-only run is estimated at its batch's cost: about a day on one core", () => {
  const hours = estimateStudySeconds("paper", [{ data: "shifted", method: "oracle", seed: 0 }], 1) / 3600;
  // 23,400 iterations of 3.6 s, and the evaluation of 70,000 images.
  assert.ok(hours > 23 && hours < 25, String(hours));
});
