import assert from "node:assert/strict";
import {
  avgPool2,
  biasAdd,
  conv2d,
  logSumExpRows,
  matMul,
  matMulSplitK,
  type Padding,
  padSpatial,
  type Stride,
} from "../../src/kernels/ops.ts";
import { type Tensor, type Tensor2D, type Tensor4D, tf } from "../../src/tf.ts";
import { assertClose, onBackend, randomValues } from "../helpers.ts";
import { conv2dGradsRef, conv2dRef, convOut, matMulRef } from "../reference.ts";
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
  // An odd side at stride 2 (every row of x in a window): the phases' extra row is cut off.
  { what: "stride 2, odd side", n: 16, side: 17, c: 3, o: 5, stride: 2, padding: "valid" },
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

// The products that WebGPU splits (src/kernels/ops.ts, product()): a convolution's bias gradient,
// a row of ones times the 2048 × 18 × 18 rows of dy, and P(T|X)'s 56448 → 128 layer on 256 images.
// Sums this long carry float32 rounding of ~1e-5 whichever the order: the reference is float64.
Deno.test("matMulSplitK() equals the float64 product at the shapes WebGPU splits", async () => {
  const cases = [{ m: 1, k: 2048 * 18 * 18, n: 32, slices: 256 }, { m: 256, k: 56448, n: 128, slices: 8 }];
  for (const { m, k, n, slices } of cases) {
    const a = randomValues(m * k, 15), b = randomValues(k * n, 16);
    const reference = matMulRef(a, b, m, k, n);
    for (const backend of TEST_BACKENDS) {
      const [split] = await onBackend(
        backend,
        () => matMulSplitK(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n]), slices),
      );
      assertClose(split!, reference, 1e-5, `${backend} [${m},${k}]·[${k},${n}] in ${slices} slices`);
    }
  }
  assert.throws(() => matMulSplitK(tf.zeros([2, 10]) as Tensor2D, tf.zeros([10, 3]) as Tensor2D, 3), RangeError);
});

Deno.test("matMul() and biasAdd() gradients equal the stock kernels at P(T|X)'s 56448 → 128 layer", async () => {
  const n = 256, k = 56448, o = 128;
  const x = randomValues(n * k, 17), w = randomValues(k * o, 18, 1 / Math.sqrt(k));
  const c = randomValues(o, 19), dz = randomValues(n * o, 20);
  const run = (fast: boolean) => () => {
    const loss = (xt: Tensor, wt: Tensor, ct: Tensor) => {
      const z = fast
        ? biasAdd(matMul(xt as Tensor2D, wt as Tensor2D), ct)
        : tf.add(tf.matMul(xt as Tensor2D, wt as Tensor2D), ct);
      return tf.sum(tf.mul(z, tf.tensor2d(dz, [n, o])));
    };
    const { value, grads } = tf.valueAndGrads(loss)([tf.tensor2d(x, [n, k]), tf.tensor2d(w, [k, o]), tf.tensor1d(c)]);
    return [value, ...grads];
  };
  const reference = await onBackend("wasm", run(false));
  for (const backend of TEST_BACKENDS) {
    const fast = await onBackend(backend, run(true));
    reference.forEach((r, i) => assertClose(fast[i]!, r, 1e-5, `${backend} output ${i}`));
  }
});

Deno.test("biasAdd()'s gradient is the float64 sum for a convolution's output on 2,048 crops", async () => {
  const shape: [number, number, number, number] = [2048, 18, 18, 32];
  const rows = 2048 * 18 * 18;
  const dy = randomValues(rows * 32, 21);
  const reference = matMulRef(new Float32Array(rows).fill(1), dy, 1, rows, 32);
  for (const backend of TEST_BACKENDS) {
    const [grad] = await onBackend(
      backend,
      () => tf.grad((b: Tensor) => tf.sum(tf.mul(biasAdd(tf.zeros(shape), b), tf.tensor4d(dy, shape))))(tf.zeros([32])),
    );
    // One unsplit float32 sum of 663,552 terms (wasm) is off by ~2e-5: the bound, 1e-4.
    assertClose(grad!, reference, 1e-4, `${backend} bias gradient`);
  }
});

// The h-step's shape at the paper's batch (2,048 crops), with what training feeds it: masked
// entries (−1e9 added), rows whose maximum is tied (two crops at one position embed alike), and
// a row with every entry masked but one. Bit for bit: resumed runs and the committed studies'
// weights rest on it.
Deno.test("logSumExpRows() and its gradient equal tfjs's logSumExp to the bit", async () => {
  const n = 2048;
  const x = randomValues(n * n, 11, 3);
  for (let i = 0; i < n; i++) {
    x[i * n + i]! -= 1e9;
    if (i % 3 === 0) x[i * n + ((i + 1) % n)] = x[i * n + ((i + 2) % n)] = 20;
  }
  for (let j = 1; j < n; j++) x[j]! -= 1e9;
  const dy = randomValues(n, 12);
  const run = (fast: boolean) => () => {
    const lse = (t: Tensor) => fast ? logSumExpRows(t as Tensor2D) : tf.logSumExp(t, 1, true);
    const input = tf.tensor2d(x, [n, n]), dyt = tf.tensor2d(dy, [n, 1]);
    return [lse(input), tf.grad((t: Tensor) => tf.sum(tf.mul(lse(t), dyt)))(input)];
  };
  const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
  for (const backend of TEST_BACKENDS) {
    const [stock, fast] = [await onBackend(backend, run(false)), await onBackend(backend, run(true))];
    stock.forEach((s, i) => {
      const [a, b] = [bits(fast[i]!), bits(s)];
      const differ = a.filter((v, j) => v !== b[j]).length;
      assert.equal(differ, 0, `${backend}: ${differ} of ${a.length} values of output ${i} differ`);
    });
  }
});
