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

// What scipy 1.17.1's L-BFGS-B gives from the same starts with scikit-learn's options (maxcor 10,
// maxls 50, gtol = tol, ftol = 64ε): iterations, evaluations and θ's first entries.
const SCIPY = {
  rosenbrock5: { nit: 5, nfev: 6, x: [-0.38351991410900016, 0.16634636298471966, 0.287098680781034] },
  rosenbrock: { nit: 58, nfev: 68 },
  quadratic5: { nit: 5, nfev: 7, x: [0.08901164920550524, 0.0886727204967274, 0.08818677984768805] },
  quadratic: { nit: 169 },
};

Deno.test("lbfgs() in the lbfgsb style takes scipy L-BFGS-B's steps", async () => {
  const start = () => Float64Array.from({ length: 6 }, (_, i) => (i % 2 ? 1.2 : -1.2));
  const lbfgsb = { memory: 10, style: "lbfgsb" } as const;
  const five = await lbfgs(rosenbrock, start(), { ...lbfgsb, maxIter: 5, tol: 1e-8 });
  assert.equal(five.evaluations, SCIPY.rosenbrock5.nfev);
  SCIPY.rosenbrock5.x.forEach((x, i) => assert.ok(Math.abs(five.theta[i]! - x) <= 1e-12, `θ${i} ${five.theta[i]}`));
  const full = await lbfgs(rosenbrock, start(), { ...lbfgsb, maxIter: 500, tol: 1e-8 });
  assert.equal(full.stopped, "tolerance");
  assert.deepEqual([full.iterations, full.evaluations], [SCIPY.rosenbrock.nit, SCIPY.rosenbrock.nfev]);

  const d = Float64Array.from({ length: 20 }, (_, i) => 10 ** (3 * i / 19));
  const quadratic: Objective = (t) =>
    Promise.resolve({ f: t.reduce((s, x, i) => s + 0.5 * d[i]! * x * x - x, 0), g: t.map((x, i) => d[i]! * x - 1) });
  const q5 = await lbfgs(quadratic, new Float64Array(20), { ...lbfgsb, maxIter: 5, tol: 1e-6 });
  assert.equal(q5.evaluations, SCIPY.quadratic5.nfev);
  SCIPY.quadratic5.x.forEach((x, i) => assert.ok(Math.abs(q5.theta[i]! - x) <= 1e-12, `θ${i} ${q5.theta[i]}`));
  // scipy stops here on f's relative reduction (below 64ε) before the gradient tolerance; rounding
  // in its compact form of the same matrix moves that stop by a few of 169 iterations.
  const q = await lbfgs(quadratic, new Float64Array(20), { ...lbfgsb, maxIter: 500, tol: 1e-6 });
  assert.equal(q.stopped, "noDecrease");
  assert.ok(Math.abs(q.iterations - SCIPY.quadratic.nit) <= 5, `${q.iterations} iterations`);
});
