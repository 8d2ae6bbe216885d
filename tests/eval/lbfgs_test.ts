import assert from "node:assert/strict";
import { lbfgs, type Objective } from "../../src/eval/lbfgs.ts";

/** Rosenbrock's function in `n` dimensions: least 0 at (1, …, 1), a curved valley that needs curvature. */
const rosenbrock: Objective = (t) => {
  let f = 0;
  const g = new Float64Array(t.length);
  for (let i = 0; i + 1 < t.length; i++) {
    const a = t[i + 1]! - t[i]! ** 2, b = 1 - t[i]!;
    f += 100 * a * a + b * b;
    g[i]! += -400 * t[i]! * a - 2 * b;
    g[i + 1]! += 200 * a;
  }
  return Promise.resolve({ f, g });
};

Deno.test("lbfgs() finds the known minimum of Rosenbrock's function and says it met the tolerance", async () => {
  const start = Float64Array.from({ length: 6 }, (_, i) => (i % 2 ? 1.2 : -1.2));
  const r = await lbfgs(rosenbrock, start, { maxIter: 500, tol: 1e-8, memory: 10 });
  assert.equal(r.stopped, "tolerance");
  assert.ok(r.gradNorm <= 1e-8);
  for (const v of r.theta) assert.ok(Math.abs(v - 1) < 1e-6, `${r.theta}`);
  assert.ok(r.f < 1e-12);
  assert.ok(r.evaluations >= r.iterations + 1);
});

Deno.test("lbfgs() reaches the minimum of an ill-conditioned quadratic, and stops at maxIter when told to", async () => {
  // f = ½ Σ dᵢ xᵢ² − Σ xᵢ, least at xᵢ = 1/dᵢ: condition number 1000. (scipy's L-BFGS-B, memory
  // 10, takes 176 iterations to a largest |gradient| of 1e-6 here; this one took 171.)
  const d = Float64Array.from({ length: 20 }, (_, i) => 10 ** (3 * i / 19));
  const quadratic: Objective = (t) =>
    Promise.resolve({
      f: t.reduce((s, x, i) => s + 0.5 * d[i]! * x * x - x, 0),
      g: t.map((x, i) => d[i]! * x - 1),
    });
  const r = await lbfgs(quadratic, new Float64Array(20), { maxIter: 300, tol: 1e-6, memory: 10 });
  assert.equal(r.stopped, "tolerance");
  assert.ok(r.iterations < 250, `${r.iterations} iterations`);
  r.theta.forEach((x, i) => assert.ok(Math.abs(x - 1 / d[i]!) <= 1e-6 / d[i]!, `x${i}`));
  const cut = await lbfgs(quadratic, new Float64Array(20), { maxIter: 3, tol: 1e-10, memory: 10 });
  assert.equal(cut.stopped, "maxIter");
  assert.equal(cut.iterations, 3);
  assert.ok(cut.gradNorm > 1e-10);
});
