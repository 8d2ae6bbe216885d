import assert from "node:assert/strict";
import { moreThuente, type MoreThuenteOptions } from "../../src/eval/more_thuente.ts";

// Moré & Thuente (1994)'s test functions 1–3 (their Table 1–3 settings: β = 2, β = 0.004, and
// l = 39, β = 0.01), with φ′ in closed form.
const functions = {
  rational: {
    f: (a: number) => -a / (a * a + 2),
    g: (a: number) => (a * a - 2) / (a * a + 2) ** 2,
  },
  quintic: {
    f: (a: number) => (a + 0.004) ** 5 - 2 * (a + 0.004) ** 4,
    g: (a: number) => 5 * (a + 0.004) ** 4 - 8 * (a + 0.004) ** 3,
  },
  wiggly: {
    f: (a: number) =>
      (a <= 0.99 ? 1 - a : a >= 1.01 ? a - 1 : (a - 1) ** 2 / 0.02 + 0.005) +
      (2 * 0.99 / (39 * Math.PI)) * Math.sin(39 * Math.PI * a / 2),
    g: (a: number) => (a <= 0.99 ? -1 : a >= 1.01 ? 1 : (a - 1) / 0.01) + 0.99 * Math.cos(39 * Math.PI * a / 2),
  },
};

async function search(name: keyof typeof functions, alpha0: number, o: Partial<MoreThuenteOptions>) {
  const { f, g } = functions[name];
  const trials: number[] = [];
  const options = { ftol: 1e-3, gtol: 0.1, xtol: 1e-10, stpmin: 0, stpmax: 1e10, maxTrials: 50, ...o };
  const step = await moreThuente(
    (alpha) => {
      trials.push(alpha);
      return Promise.resolve({ alpha, f: f(alpha), slope: g(alpha) });
    },
    f(0),
    g(0),
    alpha0,
    options,
  );
  return { step, trials };
}

/** Function 3's first trial steps from α₀ = 10, the same for both curvature tolerances below. */
const WIGGLY_FROM_10 = [
  10,
  0.020789930743934548,
  1.044124914011968,
  0.3618865163650353,
  0.8824993236032532,
  0.9811565020243171,
];

/** Equal to 1e-12 relative, entry by entry. */
function assertSteps(actual: number[], expected: number[]) {
  assert.equal(actual.length, expected.length, `${actual}`);
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) <= 1e-12 * expected[i]!, `trial ${i}: ${actual}`));
}

// The trial steps below are those of scipy 1.17.1's port of MINPACK-2's dcsrch
// (scipy.optimize._dcsrch.DCSRCH, which L-BFGS-B calls) on the same functions and settings.

Deno.test("moreThuente() takes MINPACK-2's trial steps on Moré and Thuente's function 1 (their Table 1)", async () => {
  const small = await search("rational", 1e-3, {});
  assertSteps(small.trials, [0.001, 0.005, 0.021, 0.085, 0.341, 1.365]);
  assert.equal(small.step?.alpha, 1.365);
  const large = await search("rational", 1e3, {});
  assertSteps(large.trials, [1000, 332.83537094698613, 110.78382764820593, 36.88760696396662]);
  // A first step that satisfies both conditions is taken as it is.
  assertSteps((await search("rational", 10, {})).trials, [10]);
});

Deno.test("moreThuente() interpolates as MINPACK-2 does on functions 2 and 3, and meets both conditions", async () => {
  const quintic = await search("quintic", 0.1, {});
  assertSteps(quintic.trials, [
    0.1,
    0.5,
    2.1,
    1.1322375187701137,
    1.6024085266778738,
    1.5847382834276738,
    1.5959997953704832,
    1.5960000000049348,
  ]);
  const wiggly = await search("wiggly", 10, {});
  assertSteps(wiggly.trials, [
    ...WIGGLY_FROM_10,
    1.0172331467037945,
    0.999404769879857,
    1.000275751217961,
    0.9999999876178056,
  ]);
  for (const [name, r] of [["quintic", quintic], ["wiggly", wiggly]] as const) {
    const { f, g } = functions[name];
    const a = r.step!.alpha;
    assert.ok(f(a) <= f(0) + 1e-3 * a * g(0), `${name}: sufficient decrease`);
    assert.ok(Math.abs(g(a)) <= 0.1 * Math.abs(g(0)), `${name}: curvature`);
  }
});

Deno.test("moreThuente() with L-BFGS-B's settings stops on the interval's width with its best step", async () => {
  // xtol = 0.1, as L-BFGS-B sets it: MINPACK-2 warns and returns the best step, which L-BFGS-B takes.
  const r = await search("wiggly", 10, { gtol: 0.9, xtol: 0.1 });
  assertSteps(r.trials, [...WIGGLY_FROM_10, 0.9811565020243171]);
  assert.equal(r.step?.alpha, 0.9811565020243171);
});

Deno.test("moreThuente() gives up after maxTrials and on a step that is not finite", async () => {
  assert.equal((await search("wiggly", 10, { maxTrials: 3 })).step, null);
  const nan = await moreThuente(
    (alpha) => Promise.resolve({ alpha, f: NaN, slope: NaN }),
    0,
    -1,
    1,
    { ftol: 1e-3, gtol: 0.9, xtol: 0.1, stpmin: 0, stpmax: 1e10, maxTrials: 50 },
  );
  assert.equal(nan, null);
});
