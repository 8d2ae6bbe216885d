/**
 * The Moré–Thuente line search (Moré & Thuente 1994, "Line search algorithms with guaranteed
 * sufficient decrease"; MINPACK-2's dcsrch and dcstep), which L-BFGS-B, and so scikit-learn's
 * lbfgs solver, uses: it keeps an interval that contains a step satisfying
 *
 *   φ(α) ≤ φ(0) + ftol·α·φ′(0)   and   |φ′(α)| ≤ gtol·|φ′(0)|,
 *
 * and picks each next trial by safeguarded cubic or quadratic interpolation of φ and φ′. Written
 * here so that the paper's probe protocol takes the steps scikit-learn takes: stopped after 100
 * iterations, the fit depends on the path, not only on the optimum (src/eval/probe.ts).
 *
 * @module
 */

/** One trial along a search direction: step α, φ(α) and φ′(α), with whatever the caller attached. */
export interface LineTrial {
  readonly alpha: number;
  readonly f: number;
  readonly slope: number;
}

/** The line search's parameters: L-BFGS-B's are ftol 1e-3, gtol 0.9, xtol 0.1. */
export interface MoreThuenteOptions {
  readonly ftol: number;
  readonly gtol: number;
  /** Relative width of the interval below which the search stops with its best step. */
  readonly xtol: number;
  readonly stpmin: number;
  readonly stpmax: number;
  /** Most trials. */
  readonly maxTrials: number;
}

/**
 * A step from `alpha0` on, or null when the search fails (none within `maxTrials`, or a step that
 * is not finite). Like L-BFGS-B, it also returns the step it stands at when rounding or the
 * interval's width stops it short of both conditions (MINPACK-2's warnings).
 *
 * @param trialAt Evaluates φ and φ′ at a step.
 * @param f0 φ(0).
 * @param slope0 φ′(0), negative.
 */
export async function moreThuente<T extends LineTrial>(
  trialAt: (alpha: number) => Promise<T>,
  f0: number,
  slope0: number,
  alpha0: number,
  o: MoreThuenteOptions,
): Promise<T | null> {
  const gtest = o.ftol * slope0;
  let brackt = false, stage = 1;
  let width = o.stpmax - o.stpmin, width1 = 2 * width;
  // x: the best step so far; y: the other end of the interval.
  let x = { stp: 0, f: f0, g: slope0 }, y = { stp: 0, f: f0, g: slope0 };
  let stmin = 0, stmax = alpha0 + 4 * alpha0;
  let stp = alpha0;
  for (let trials = 0; trials < o.maxTrials; trials++) {
    const t = await trialAt(stp);
    const f = t.f, g = t.slope;
    const ftest = f0 + stp * gtest;
    if (stage === 1 && f <= ftest && g >= 0) stage = 2;
    const warning = (brackt && (stp <= stmin || stp >= stmax)) ||
      (brackt && stmax - stmin <= o.xtol * stmax) ||
      (stp === o.stpmax && f <= ftest && g <= gtest) ||
      (stp === o.stpmin && (f > ftest || g >= gtest));
    if (f <= ftest && Math.abs(g) <= o.gtol * -slope0) return t;
    if (warning) return t;
    let next: ReturnType<typeof step>;
    if (stage === 1 && f <= x.f && f > ftest) {
      // A lower value without sufficient decrease: step on ψ(α) = φ(α) − φ(0) − ftol·α·φ′(0).
      const m = (p: { stp: number; f: number; g: number }) => ({ stp: p.stp, f: p.f - p.stp * gtest, g: p.g - gtest });
      next = step(m(x), m(y), { stp, f: f - stp * gtest, g: g - gtest }, brackt, stmin, stmax);
      const back = (p: { stp: number; f: number; g: number }) => ({
        stp: p.stp,
        f: p.f + p.stp * gtest,
        g: p.g + gtest,
      });
      x = back(next.x);
      y = back(next.y);
    } else {
      next = step(x, y, { stp, f, g }, brackt, stmin, stmax);
      x = next.x;
      y = next.y;
    }
    brackt = next.brackt;
    stp = next.stp;
    if (brackt) {
      // The interval did not shrink enough: bisect.
      if (Math.abs(y.stp - x.stp) >= 0.66 * width1) stp = x.stp + 0.5 * (y.stp - x.stp);
      width1 = width;
      width = Math.abs(y.stp - x.stp);
      stmin = Math.min(x.stp, y.stp);
      stmax = Math.max(x.stp, y.stp);
    } else {
      stmin = stp + 1.1 * (stp - x.stp);
      stmax = stp + 4 * (stp - x.stp);
    }
    stp = Math.min(Math.max(stp, o.stpmin), o.stpmax);
    if ((brackt && (stp <= stmin || stp >= stmax)) || (brackt && stmax - stmin <= o.xtol * stmax)) stp = x.stp;
    if (!Number.isFinite(stp)) return null;
  }
  return null;
}

/**
 * MINPACK-2's dcstep: the next trial step from the best point `x`, the interval's other end `y`
 * and the latest trial `p`, and the updated interval.
 */
function step(
  x: { stp: number; f: number; g: number },
  y: { stp: number; f: number; g: number },
  p: { stp: number; f: number; g: number },
  brackt: boolean,
  stpmin: number,
  stpmax: number,
) {
  const sgnd = Math.sign(p.g) * Math.sign(x.g);
  // The minimiser of the cubic through (x, p) with their slopes, as an offset r of the segment.
  const cubic = (a: typeof x, b: typeof x, clampRoot: boolean) => {
    const theta = 3 * (a.f - b.f) / (b.stp - a.stp) + a.g + b.g;
    const s = Math.max(Math.abs(theta), Math.abs(a.g), Math.abs(b.g));
    const root = (theta / s) ** 2 - (a.g / s) * (b.g / s);
    return { theta, gamma: s * Math.sqrt(clampRoot ? Math.max(0, root) : root) };
  };
  let stpf: number;
  if (p.f > x.f) {
    // Higher value: the minimum is bracketed; cubic or quadratic step, whichever is closer to x.
    const { theta, gamma: g0 } = cubic(x, p, false);
    const gamma = p.stp < x.stp ? -g0 : g0;
    const r = ((gamma - x.g) + theta) / (((gamma - x.g) + gamma) + p.g);
    const stpc = x.stp + r * (p.stp - x.stp);
    const stpq = x.stp + ((x.g / ((x.f - p.f) / (p.stp - x.stp) + x.g)) / 2) * (p.stp - x.stp);
    stpf = Math.abs(stpc - x.stp) <= Math.abs(stpq - x.stp) ? stpc : stpc + (stpq - stpc) / 2;
    brackt = true;
  } else if (sgnd < 0) {
    // Slopes of opposite sign: bracketed; the step farther from p of the cubic and the secant.
    const { theta, gamma: g0 } = cubic(x, p, false);
    const gamma = p.stp > x.stp ? -g0 : g0;
    const r = ((gamma - p.g) + theta) / (((gamma - p.g) + gamma) + x.g);
    const stpc = p.stp + r * (x.stp - p.stp);
    const stpq = p.stp + (p.g / (p.g - x.g)) * (x.stp - p.stp);
    stpf = Math.abs(stpc - p.stp) > Math.abs(stpq - p.stp) ? stpc : stpq;
    brackt = true;
  } else if (Math.abs(p.g) < Math.abs(x.g)) {
    // Same sign, the slope shrinking: extrapolate by the cubic if it points the right way.
    const { theta, gamma: g0 } = cubic(x, p, true);
    const gamma = p.stp > x.stp ? -g0 : g0;
    const r = ((gamma - p.g) + theta) / ((gamma + (x.g - p.g)) + gamma);
    const stpc = r < 0 && gamma !== 0 ? p.stp + r * (x.stp - p.stp) : p.stp > x.stp ? stpmax : stpmin;
    const stpq = p.stp + (p.g / (p.g - x.g)) * (x.stp - p.stp);
    if (brackt) {
      stpf = Math.abs(stpc - p.stp) < Math.abs(stpq - p.stp) ? stpc : stpq;
      stpf = p.stp > x.stp
        ? Math.min(p.stp + 0.66 * (y.stp - p.stp), stpf)
        : Math.max(p.stp + 0.66 * (y.stp - p.stp), stpf);
    } else {
      stpf = Math.abs(stpc - p.stp) > Math.abs(stpq - p.stp) ? stpc : stpq;
      stpf = Math.min(Math.max(stpf, stpmin), stpmax);
    }
  } else if (brackt) {
    // Same sign, the slope not shrinking, bracketed: the cubic through p and y.
    const { theta, gamma: g0 } = cubic(p, y, false);
    const gamma = p.stp > y.stp ? -g0 : g0;
    const r = ((gamma - p.g) + theta) / (((gamma - p.g) + gamma) + y.g);
    stpf = p.stp + r * (y.stp - p.stp);
  } else {
    stpf = p.stp > x.stp ? stpmax : stpmin;
  }
  let nx = x, ny = y;
  if (p.f > x.f) ny = p;
  else {
    if (sgnd < 0) ny = x;
    nx = p;
  }
  return { x: nx, y: ny, stp: stpf, brackt };
}
