import assert from "node:assert/strict";
import { avgPool2, biasAdd, conv2d, matMul, type Padding, padSpatial, type Stride } from "../../src/model/ops.ts";
import { type Tensor, type Tensor2D, type Tensor4D, tf } from "../../src/tf.ts";
import { assertClose, onBackend, randomValues } from "../helpers.ts";
import { conv2dGradsRef, conv2dRef, convOut } from "../reference.ts";
import { TEST_BACKENDS } from "../webgpu.ts";

await tf.setBackend("wasm");

interface Layer {
  what: string;
  n: number;
  side: number;
  c: number;
  o: number;
  stride: Stride;
  padding: Padding;
}

// The layers training runs, at the batch sizes of the paper profile or larger: the encoder on
// 2048 crops (8 crops × 256 images), P(T|X) on 64 full images.
const LAYERS: Layer[] = [
  { what: "encoder conv1", n: 2048, side: 20, c: 1, o: 32, stride: 1, padding: "valid" },
  { what: "encoder conv2", n: 2048, side: 18, c: 32, o: 64, stride: 2, padding: "valid" },
  { what: "encoder conv3", n: 2048, side: 8, c: 64, o: 128, stride: 2, padding: "valid" },
  { what: "P(T|X) conv1", n: 64, side: 84, c: 1, o: 32, stride: 1, padding: "same" },
  { what: "P(T|X) conv2", n: 64, side: 84, c: 32, o: 32, stride: 1, padding: "same" },
];

for (const layer of LAYERS) {
  Deno.test(`conv2d() forward and gradients equal the definition: ${layer.what} [${layer.n},${layer.side},${layer.side},${layer.c}] → ${layer.o}`, async (t) => {
    const { n, side, c, o, stride, padding } = layer;
    const pad = padding === "same" ? 1 : 0;
    const shape = { n, h: side + 2 * pad, c, o, k: 3, stride };
    const ho = convOut(shape);
    const x = randomValues(n * side * side * c, 1);
    const w = randomValues(9 * c * o, 2, Math.sqrt(2 / (9 * c)));
    const dy = randomValues(n * ho * ho * o, 3);
    // The reference works on the explicitly padded input; its input gradient is then cropped.
    const xPadded = pad ? await onBackend("cpu", () => padSpatial(tf.tensor4d(x, [n, side, side, c]), pad)) : [x];
    const y = conv2dRef(shape, xPadded[0]!, w);
    const { dx: dxPadded, dw } = conv2dGradsRef(shape, xPadded[0]!, w, dy);
    const dx = pad
      ? (await onBackend(
        "cpu",
        () =>
          tf.slice(tf.tensor4d(Float32Array.from(dxPadded), [n, side + 2, side + 2, c]), [0, 1, 1, 0], [
            -1,
            side,
            side,
            -1,
          ]),
      ))[0]!
      : dxPadded;
    for (const backend of TEST_BACKENDS) {
      await t.step(backend, async () => {
        const [yb, dxb, dwb] = await onBackend(backend, () => {
          const xt = tf.tensor4d(x, [n, side, side, c]);
          const wt = tf.tensor4d(w, [3, 3, c, o]);
          const dyt = tf.tensor4d(dy, [n, ho, ho, o]);
          const f = (a: Tensor, b: Tensor) =>
            tf.sum(tf.mul(conv2d(a as Tensor4D, b as Tensor4D, { stride, padding }), dyt));
          const [gx, gw] = tf.grads(f)([xt, wt]);
          return [conv2d(xt, wt, { stride, padding }), gx!, gw!];
        });
        assertClose(yb!, y, 1e-4, "forward");
        assertClose(dxb!, dx, 1e-4, "input gradient");
        assertClose(dwb!, dw, 1e-4, "filter gradient");
      });
    }
  });
}

Deno.test("conv2d() without input gradient gives the same filter gradient", async () => {
  const x = randomValues(8 * 18 * 18 * 4, 4), w = randomValues(9 * 4 * 6, 5);
  const [a, b] = await onBackend("wasm", () => {
    const xt = tf.tensor4d(x, [8, 18, 18, 4]), wt = tf.tensor4d(w, [3, 3, 4, 6]);
    const g = (inputGrad: boolean) =>
      tf.grad((v: Tensor) => tf.sum(tf.square(conv2d(xt, v as Tensor4D, { stride: 2, inputGrad }))))(wt);
    return [g(true), g(false)];
  });
  assert.deepEqual(a, b);
});

Deno.test("conv2d() rejects same padding with a stride", () => {
  assert.throws(
    () =>
      conv2d(tf.zeros([1, 8, 8, 1]) as Tensor4D, tf.zeros([3, 3, 1, 1]) as Tensor4D, { stride: 2, padding: "same" }),
    RangeError,
  );
});

Deno.test("matMul(), biasAdd() and avgPool2() gradients equal the cpu backend's stock kernels", async () => {
  const a = randomValues(64 * 40, 6), b = randomValues(40 * 30, 7), bias = randomValues(30, 8);
  const img = randomValues(4 * 84 * 84 * 3, 9), dPool = randomValues(4 * 42 * 42 * 3, 10);
  const run = (fast: boolean) => () => {
    const at = tf.tensor2d(a, [64, 40]), bt = tf.tensor2d(b, [40, 30]), ct = tf.tensor1d(bias);
    const it = tf.tensor4d(img, [4, 84, 84, 3]), dp = tf.tensor4d(dPool, [4, 42, 42, 3]);
    const dense = (x: Tensor, w: Tensor, c: Tensor) =>
      tf.sum(
        tf.square(
          fast ? biasAdd(matMul(x as Tensor2D, w as Tensor2D), c) : tf.add(tf.matMul(x as Tensor2D, w as Tensor2D), c),
        ),
      );
    const pool = (x: Tensor) =>
      tf.sum(tf.mul(fast ? avgPool2(x as Tensor4D) : tf.avgPool(x as Tensor4D, 2, 2, "valid"), dp));
    return [...tf.grads(dense)([at, bt, ct]), tf.grad(pool)(it)];
  };
  const reference = await onBackend("cpu", run(false));
  for (const backend of TEST_BACKENDS) {
    const fast = await onBackend(backend, run(true));
    reference.forEach((r, i) => assertClose(fast[i]!, r, 1e-5, `${backend} gradient ${i}`));
  }
});
