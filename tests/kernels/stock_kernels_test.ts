import assert from "node:assert/strict";
import { resolveConfig } from "../../src/config.ts";
import { useBackend } from "../../src/backend.ts";
import { checkStockOnMesa, MESA_LOOP_ITERATIONS, stockFilterGradLoop } from "../../src/kernels/stock_kernels.ts";
import { train } from "../../src/train/trainer.ts";
import { policyImagesPerPass } from "../../src/model/policy.ts";
import { type Tensor, type Tensor4D, tf } from "../../src/tf.ts";
import { onBackend } from "../helpers.ts";
import { inTempDir } from "../temp_dirs.ts";
import { FALLBACK_ADAPTER } from "../webgpu.ts";

const shifted = { method: "crltac", batch: 8, crops: 8 } as const;
const at84 = { side: 84, perPass: policyImagesPerPass(84) }, at28 = { side: 28, perPass: policyImagesPerPass(28) };

Deno.test("stockFilterGradLoop() is the longer of the encoder's and P(T|X)'s filter-gradient loops", () => {
  assert.equal(stockFilterGradLoop(shifted, at84), 8 * 84 * 84); // P(T|X) over 8 images
  assert.equal(stockFilterGradLoop({ ...shifted, method: "simclr" }, at84), 8 * 8 * 18 * 18); // the encoder alone
  // The paper's 256 images go through P(T|X) in passes of 74.
  assert.equal(stockFilterGradLoop({ ...shifted, batch: 256, crops: 1 }, at84), 74 * 84 * 84);
});

Deno.test("checkStockOnMesa() names the largest batch whose filter gradients Mesa computes in full", () => {
  checkStockOnMesa(shifted, at84);
  assert.throws(() => checkStockOnMesa({ ...shifted, batch: 64 }, at84), /--batch 64; pass --batch 8 or less/);
  // Original MNIST: the encoder's 22 × 8 crops bind first.
  assert.throws(() => checkStockOnMesa({ ...shifted, batch: 64 }, at28), /pass --batch 22 or less/);
  assert.throws(() => checkStockOnMesa({ ...shifted, crops: 200 }, at28), /use fewer --crops/);
});

// Filter gradient of a 3 × 3 convolution over ones with output gradient ones: each tap sums
// n × 18 × 18 ones.
const onesFilterGrad = (n: number) => () => {
  const x = tf.ones([n, 20, 20, 1]) as Tensor4D;
  const dy = tf.ones([n, 18, 18, 2]);
  return tf.grad((w: Tensor) => tf.conv2d(x, w as Tensor4D, 1, "valid"))(tf.ones([3, 3, 1, 2]), dy);
};

Deno.test({
  name: "on Mesa, tfjs-webgpu's own filter gradient is whole up to MESA_LOOP_ITERATIONS and short one crop past it",
  ignore: !FALLBACK_ADAPTER,
  fn: async () => {
    const within = MESA_LOOP_ITERATIONS / (18 * 18);
    const [right] = await onBackend("webgpu", onesFilterGrad(within));
    assert.ok(right!.every((v) => v === MESA_LOOP_ITERATIONS));
    const [short] = await onBackend("webgpu", onesFilterGrad(within + 1));
    assert.ok(short!.every((v) => v < MESA_LOOP_ITERATIONS + 18 * 18), `${short![0]}`);
  },
});

Deno.test({
  name: "train() with stock kernels on Mesa's WebGPU refuses a batch it would get wrong",
  ignore: !FALLBACK_ADAPTER,
  fn: () =>
    inTempDir(async (dir) => {
      try {
        const config = resolveConfig("smoke", "shifted", "crltac", 0, {
          trainSize: 16,
          batch: 16,
          epochs: 1,
          backend: "webgpu",
        });
        await assert.rejects(train(config, { dir, progress: false, stockKernels: true }), /pass --batch 8 or less/);
      } finally {
        await useBackend("wasm");
      }
    }),
});
