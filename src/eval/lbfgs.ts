/**
 * L-BFGS (Nocedal & Wright, Algorithm 7.4) for a smooth objective evaluated asynchronously (the
 * probe computes its loss and gradient with tfjs, one read-back per evaluation): the two-loop
 * recursion over the last `memory` curvature pairs (H₀ = sᵀy / yᵀy · I from the newest), with one of
 * two ways of stepping ({@linkcode LbfgsStyle}): a strong-Wolfe line search (c₁ = 1e-4, c₂ = 0.9)
 * that shows sufficient decrease by the derivative once f's float32 rounding exceeds the decrease
 * (see `lineSearch`), or scipy's L-BFGS-B's own (the Moré–Thuente search, ./more_thuente.ts). On
 * an objective without bounds L-BFGS-B's direction is this one. State is float64 on the host.
 *
 * @module
 */

import { moreThuente } from "./more_thuente.ts";

/** Loss and gradient at θ. */
export type Objective = (theta: Float64Array) => Promise<{ f: number; g: Float64Array }>;

/**
 * How the steps are taken:
 *
 * - `wolfe`: a strong-Wolfe search made for objectives computed in float32 (see `lineSearch`),
 *   the first step of unit length;
 * - `lbfgsb`: what scipy's L-BFGS-B does without bounds, which scikit-learn's lbfgs solver calls:
 *   the Moré–Thuente search (ftol 1e-3, gtol 0.9, xtol 0.1, at most 50 trials, as scikit-learn
 *   sets it), a first step of 1/‖d‖ at the first iteration and of 1 after, pairs with
 *   sᵀy ≤ ε·(−gᵀs) left out, a failed search retried once from steepest descent with the memory
 *   cleared, and a stop when f falls by less than 64ε relative (scikit-learn's ftol).
 */
export type LbfgsStyle = "wolfe" | "lbfgsb";

/** When to stop, how many curvature pairs to keep, and how to step. */
export interface LbfgsOptions {
  /** Most iterations. */
  readonly maxIter: number;
  /** Stop when the largest |gradient| is at most this. */
  readonly tol: number;
  /** Curvature pairs kept. */
  readonly memory: number;
  /** @default "wolfe" */
  readonly style?: LbfgsStyle;
}

/** Why the minimisation stopped. */
export type LbfgsStop = "tolerance" | "maxIter" | "lineSearch" | "noDecrease";

/** L-BFGS-B's line search as scikit-learn configures it (maxls = 50). */
const LBFGSB_SEARCH = { ftol: 1e-3, gtol: 0.9, xtol: 0.1, stpmin: 0, stpmax: 1e10, maxTrials: 50 };

// Strong-Wolfe constants (Nocedal & Wright's for quasi-Newton methods) and the most evaluations
// one line search may take (scikit-learn raises scipy's 20 to 50).
const C1 = 1e-4;
const C2 = 0.9;
const MAX_LINE_SEARCH = 50;
// Relative size of f's rounding error tolerated by the approximate Wolfe test (see _lineSearch).
const NOISE = 1e-6;

/** One evaluation along a search direction: step α, f, gradient and φ′(α) = gᵀd. */
interface Trial {
  readonly alpha: number;
  readonly f: number;
  readonly g: Float64Array;
  readonly slope: number;
}

export interface LbfgsResult {
  readonly theta: Float64Array;
  readonly f: number;
  readonly gradNorm: number;
  readonly iterations: number;
  readonly evaluations: number;
  readonly stopped: LbfgsStop;
}

/**
 * Minimises `objective` from `theta` (which it updates) with L-BFGS, until the largest |gradient|
 * is at most `tol`, `maxIter` iterations were taken, or a line search finds no acceptable step.
 *
 * @example
 * ```ts
 * import { lbfgs } from "./lbfgs.ts";
 * import assert from "node:assert";
 * // f(x, y) = (x − 3)² + 10 (y + 1)², least at (3, −1).
 * const objective = (t: Float64Array) =>
 *   Promise.resolve({ f: (t[0]! - 3) ** 2 + 10 * (t[1]! + 1) ** 2, g: Float64Array.of(2 * (t[0]! - 3), 20 * (t[1]! + 1)) });
 * const r = await lbfgs(objective, new Float64Array(2), { maxIter: 100, tol: 1e-9, memory: 10 });
 * assert.ok(Math.abs(r.theta[0]! - 3) < 1e-8 && Math.abs(r.theta[1]! + 1) < 1e-8);
 * ```
 */
export async function lbfgs(
  objective: Objective,
  theta: Float64Array,
  opts: LbfgsOptions,
): Promise<LbfgsResult> {
  const size = theta.length;
  let evaluations = 0;
  const evaluate: Objective = (t) => {
    evaluations++;
    return objective(t);
  };
  let { f, g } = await evaluate(theta);
  // Curvature pairs, oldest first.
  const pairs: { s: Float64Array; y: Float64Array; rho: number }[] = [];
  const trialTheta = new Float64Array(size);
  let iterations = 0;
  let stopped: LbfgsStop = "maxIter";
  const lbfgsb = opts.style === "lbfgsb";
  while (true) {
    if (maxAbs(g) <= opts.tol) {
      stopped = "tolerance";
      break;
    }
    if (iterations >= opts.maxIter) break;
    let accepted: Trial | null = null, d: Float64Array = new Float64Array(0), slope0 = 0;
    // A failed search is retried once from steepest descent with the memory cleared.
    for (const restart of [false, true]) {
      if (restart) {
        if (pairs.length === 0) break;
        pairs.length = 0;
      }
      d = direction(g, pairs);
      slope0 = dot(g, d);
      if (!(slope0 < 0)) {
        // Rounding can spoil the quasi-Newton direction; start the memory afresh.
        pairs.length = 0;
        d = direction(g, pairs);
        slope0 = dot(g, d);
      }
      const norm = Math.sqrt(dot(d, d));
      const trialAt = async (alpha: number): Promise<Trial> => {
        for (let j = 0; j < size; j++) trialTheta[j] = theta[j]! + alpha * d[j]!;
        const r = await evaluate(trialTheta);
        return { alpha, f: r.f, g: r.g, slope: dot(r.g, d) };
      };
      accepted = lbfgsb
        ? await moreThuente(trialAt, f, slope0, iterations === 0 ? 1 / norm : 1, LBFGSB_SEARCH)
        // The first step has no curvature to scale it: of unit length.
        : await lineSearch(trialAt, f, slope0, pairs.length === 0 ? Math.min(1, 1 / norm) : 1);
      if (accepted || !lbfgsb) break;
    }
    if (!accepted) {
      stopped = "lineSearch";
      break;
    }
    const s = new Float64Array(size), y = new Float64Array(size);
    for (let j = 0; j < size; j++) {
      s[j] = accepted.alpha * d[j]!;
      y[j] = accepted.g[j]! - g[j]!;
      theta[j]! += s[j]!;
    }
    const previous = f;
    f = accepted.f;
    g = accepted.g;
    iterations++;
    const sy = dot(s, y);
    if (lbfgsb ? sy > Number.EPSILON * -accepted.alpha * slope0 : sy > Number.EPSILON * dot(y, y)) {
      pairs.push({ s, y, rho: 1 / sy });
      if (pairs.length > opts.memory) pairs.shift();
    }
    if (lbfgsb && previous - f <= 64 * Number.EPSILON * Math.max(Math.abs(previous), Math.abs(f), 1)) {
      stopped = maxAbs(g) <= opts.tol ? "tolerance" : "noDecrease";
      break;
    }
  }
  return { theta, f, gradNorm: maxAbs(g), iterations, evaluations, stopped };
}

/** −H·g by the two-loop recursion, H₀ = (sᵀy / yᵀy)·I from the newest pair. */
function direction(
  g: Float64Array,
  pairs: readonly { s: Float64Array; y: Float64Array; rho: number }[],
): Float64Array {
  const q = Float64Array.from(g);
  const a = new Float64Array(pairs.length);
  for (let i = pairs.length - 1; i >= 0; i--) {
    const { s, y, rho } = pairs[i]!;
    a[i] = rho * dot(s, q);
    axpy(-a[i]!, y, q);
  }
  const newest = pairs[pairs.length - 1];
  if (newest) {
    const gamma = 1 / (newest.rho * dot(newest.y, newest.y));
    for (let j = 0; j < q.length; j++) q[j]! *= gamma;
  }
  for (let i = 0; i < pairs.length; i++) {
    const { s, y, rho } = pairs[i]!;
    axpy(a[i]! - rho * dot(y, q), s, q);
  }
  for (let j = 0; j < q.length; j++) q[j] = -q[j]!;
  return q;
}

/**
 * A step satisfying the strong Wolfe conditions, or null when none is found within the budget.
 *
 * The objective is convex, so along d the slope φ′ increases and its sign tells on which side
 * of the minimum a step lies: the bracket is kept with the slope's sign and narrowed by the
 * secant of φ′ (exact on a quadratic), safeguarded to the middle 80 %. Near the optimum the
 * decrease f(θ + αd) − f(θ) falls below the float32 rounding of f while φ′ is still accurate, so
 * sufficient decrease may also be shown by the derivative: φ(α) ≤ φ(0) + ε|φ(0)| and
 * φ′(α) ≤ (2c₁ − 1)φ′(0) (Hager & Zhang 2005's approximate Wolfe conditions, ε = 1e-6), which on
 * a quadratic is exactly the Armijo condition.
 */
async function lineSearch(
  trialAt: (alpha: number) => Promise<Trial>,
  f0: number,
  slope0: number,
  alpha0: number,
): Promise<Trial | null> {
  const noise = NOISE * Math.abs(f0);
  const sufficient = (t: Trial) =>
    t.f <= f0 + C1 * t.alpha * slope0 ||
    (t.f <= f0 + noise && t.slope <= (2 * C1 - 1) * slope0);
  let lo: Trial = { alpha: 0, f: f0, g: new Float64Array(0), slope: slope0 };
  let hi: Trial | null = null;
  let alpha = alpha0;
  for (let budget = MAX_LINE_SEARCH; budget > 0; budget--) {
    const t = await trialAt(alpha);
    const decrease = sufficient(t);
    if (decrease && Math.abs(t.slope) <= -C2 * slope0) return t;
    if (decrease && t.slope < 0) lo = t;
    else hi = t;
    if (hi === null) {
      alpha *= 4;
      continue;
    }
    const width = hi.alpha - lo.alpha;
    alpha = lo.alpha - lo.slope * width / (hi.slope - lo.slope);
    if (!(Math.abs(alpha - lo.alpha - width / 2) <= 0.4 * Math.abs(width))) {
      alpha = lo.alpha + width / 2;
    }
    if (alpha === lo.alpha || alpha === hi.alpha) break; // the bracket is below float resolution
  }
  return lo.alpha > 0 ? lo : null;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j]! * b[j]!;
  return s;
}

/** y += a·x */
function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let j = 0; j < y.length; j++) y[j]! += a * x[j]!;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let j = 0; j < a.length; j++) m = Math.max(m, Math.abs(a[j]!));
  return m;
}
