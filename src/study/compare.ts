/**
 * Comparing a study's cells with the paper and with this package's own fixtures, and checking the
 * paper's claims. Which comparisons are *checked* (decide the exit code) depends on the profile:
 * the paper profile checks every paper cell and the paper's claims; the smoke profile checks its
 * own fixture (per seed, within tolerances) and the claims that hold at its scale.
 *
 * Every probe cell comes in two protocols (src/eval/probe.ts): this package's (`…/integrated`)
 * and the paper's (`…/integrated/paper`), and both are compared with the paper's one number. The
 * paper profile checks the paper's protocol, the one the paper used; this package's is shown
 * beside it.
 *
 * @module
 */

import type { ProfileName } from "../config.ts";
import { fields, nullable, recordOf } from "../shape.ts";
import type { CellStats } from "./results.ts";

/** A number of the paper with where it comes from. */
export interface PaperValue {
  readonly mean: number;
  readonly std: number | null;
  readonly source: string;
}

/** Thresholds of the claims checked beyond single cells. */
export interface ClaimThresholds {
  /**
   * CRL-TAC's shifted P-integrated head accuracy minus SimCLR's must exceed this, under this
   * package's probe or (`protocol: "paper"`) the paper's.
   */
  readonly headAdvantage?: { readonly text?: string; readonly minGap: number; readonly protocol?: "paper" };
  /** CRL-TAC's crop concentration on shifted MNIST must reach this. */
  readonly concentration?: { readonly text?: string; readonly min: number };
  /** CRL-TAC's uniformity potential over SimCLR's must stay below this. */
  readonly uniformity?: { readonly text?: string; readonly maxRatio: number };
}

/** fixtures/paper.json. */
export interface PaperFixture {
  readonly cells: Readonly<Record<string, PaperValue>>;
  readonly claims: ClaimThresholds;
}

/** Allowed |ours − fixture| per kind of metric. */
export interface Tolerances {
  readonly accuracy: number;
  readonly concentration: number;
  readonly uniformity: number;
}

/** fixtures/<profile>.json: this package's own results, regenerated with --update-fixtures. */
export interface OwnFixture {
  readonly profile: ProfileName;
  readonly note?: string;
  readonly tolerances: Tolerances;
  readonly cells: Readonly<Record<string, CellStats>>;
  readonly claims: ClaimThresholds;
}

/**
 * The shape of an own fixture. A fixture without cells, or a cell without seeds, is refused: the
 * comparison would check nothing and pass.
 */
export const OWN_FIXTURE_SHAPE = fields({
  cells: recordOf(fields({ mean: "number", std: "number", n: "number", values: recordOf("number", true) }), true),
  profile: "string",
  tolerances: fields({ accuracy: "number", concentration: "number", uniformity: "number" }),
  claims: fields({}),
});

/** The shape of fixtures/paper.json. */
export const PAPER_FIXTURE_SHAPE = fields({
  cells: recordOf(fields({ mean: "number", std: nullable("number"), source: "string" }), true),
  claims: fields({}),
});

/** Below this, a combined standard deviation is taken as this: sub-percent noise is not news. */
export const STD_FLOOR = 0.005;

/** Within this many combined standard deviations a cell counts as reproduced. */
export const Z_LIMIT = 2;

/** How a cell compares with the paper. */
export type Verdict = "reproduced" | "not reproduced" | "not run";

/** One row of the comparison table. */
export interface CellComparison {
  readonly key: string;
  readonly paper: PaperValue | null;
  readonly ours: CellStats | null;
  /** (ours − paper) / max(√(σ_ours² + σ_paper²), STD_FLOOR); null without both. */
  readonly z: number | null;
  readonly verdict: Verdict | null;
  /** The own-fixture check: the largest per-seed |ours − fixture| and whether it is within tolerance. */
  readonly fixture: { readonly worst: number; readonly tolerance: number; readonly ok: boolean } | null;
  /** Whether this row decides the exit code. */
  readonly checked: boolean;
}

/** A claim beyond single cells. */
export interface ClaimResult {
  readonly id: string;
  readonly text: string;
  /** Null when the runs it needs were not run. */
  readonly ok: boolean | null;
  readonly detail: string;
}

/** The whole comparison. */
export interface Comparison {
  readonly profile: ProfileName;
  readonly cells: readonly CellComparison[];
  readonly claims: readonly ClaimResult[];
  /** Checked comparisons that failed, by name; empty when everything checked passed. */
  readonly failures: readonly string[];
}

/** The tolerance kind of a cell key. */
export function toleranceFor(key: string, t: Tolerances): number {
  if (key.endsWith("/concentration")) return t.concentration;
  if (key.endsWith("/uniformity")) return t.uniformity;
  return t.accuracy;
}

/** The paper's value for a cell: probe cells of either protocol share it. */
function paperValueOf(paper: PaperFixture, key: string): PaperValue | null {
  return paper.cells[key] ?? paper.cells[key.replace(/\/paper$/, "")] ?? null;
}

/** Whether a cell is a probe accuracy under this package's protocol (not the paper's). */
function isOwnProtocolProbe(key: string): boolean {
  const parts = key.split("/");
  return !key.endsWith("/paper") && (parts[1] === "raw" || parts[2] === "head" || parts[2] === "f");
}

/** The keys in a readable order: each probe cell followed by the same cell under the paper's protocol. */
function orderKeys(keys: readonly string[]): string[] {
  const set = new Set(keys);
  const out: string[] = [];
  for (const key of keys) {
    if (key.endsWith("/paper") && set.has(key.replace(/\/paper$/, ""))) continue;
    out.push(key);
    if (set.has(`${key}/paper`)) out.push(`${key}/paper`);
  }
  return out;
}

function paperVerdict(paper: PaperValue, ours: CellStats): { z: number; verdict: Verdict } {
  const combined = Math.max(Math.sqrt(ours.std ** 2 + (paper.std ?? 0) ** 2), STD_FLOOR);
  const z = (ours.mean - paper.mean) / combined;
  return { z, verdict: Math.abs(z) <= Z_LIMIT ? "reproduced" : "not reproduced" };
}

function fixtureCheck(key: string, ours: CellStats, own: OwnFixture) {
  const expected = own.cells[key];
  if (!expected) return null;
  const tolerance = toleranceFor(key, own.tolerances);
  const seeds = Object.keys(ours.values).filter((s) => s in expected.values);
  if (seeds.length === 0) return null;
  const worst = Math.max(...seeds.map((s) => Math.abs(ours.values[s]! - expected.values[s]!)));
  return { worst, tolerance, ok: worst <= tolerance };
}

function checkClaims(cells: Readonly<Record<string, CellStats>>, t: ClaimThresholds): ClaimResult[] {
  const mean = (key: string) => cells[key]?.mean;
  const out: ClaimResult[] = [];
  if (t.headAdvantage) {
    const suffix = t.headAdvantage.protocol === "paper" ? "/paper" : "";
    const a = mean(`shifted/crltac/head/integrated${suffix}`), b = mean(`shifted/simclr/head/integrated${suffix}`);
    out.push({
      id: "headAdvantage",
      text: t.headAdvantage.text ?? "CRL-TAC beats SimCLR at the projection head on shifted MNIST",
      ok: a === undefined || b === undefined ? null : a - b > t.headAdvantage.minGap,
      detail: a === undefined || b === undefined
        ? "not run"
        : `CRL-TAC ${a.toFixed(4)} vs SimCLR ${b.toFixed(4)} (gap ${
          (a - b).toFixed(4)
        }, needed > ${t.headAdvantage.minGap})`,
    });
  }
  if (t.concentration) {
    const c = mean("shifted/crltac/concentration");
    out.push({
      id: "concentration",
      text: t.concentration.text ??
        `the learned P(T|X) puts at least ${t.concentration.min} of its mass on non-empty crops`,
      ok: c === undefined ? null : c >= t.concentration.min,
      detail: c === undefined
        ? "not run"
        : `mass on non-empty crops ${c.toFixed(4)} (needed ≥ ${t.concentration.min}; uniform: 0.16)`,
    });
  }
  if (t.uniformity) {
    const a = mean("shifted/crltac/uniformity"), b = mean("shifted/simclr/uniformity");
    out.push({
      id: "uniformity",
      text: t.uniformity.text ?? "CRL-TAC's uniformity potential is far below SimCLR's",
      ok: a === undefined || b === undefined ? null : a < t.uniformity.maxRatio * b,
      detail: a === undefined || b === undefined
        ? "not run"
        : `CRL-TAC ${a.toFixed(4)} vs SimCLR ${b.toFixed(4)} (ratio ${
          (a / b).toFixed(3)
        }, needed < ${t.uniformity.maxRatio})`,
    });
  }
  return out;
}

/**
 * Compares the cells with the paper and, for a profile with its own fixture, with that fixture.
 *
 * @param own The profile's own fixture, or null (none yet, or the paper profile).
 */
export function compare(
  profile: ProfileName,
  cells: Readonly<Record<string, CellStats>>,
  paper: PaperFixture,
  own: OwnFixture | null,
): Comparison {
  const checkPaper = profile === "paper";
  const keys = orderKeys([
    ...new Set([...Object.keys(paper.cells), ...Object.keys(cells), ...Object.keys(own?.cells ?? {})]),
  ]);
  const rows: CellComparison[] = keys.map((key) => {
    const p = paperValueOf(paper, key);
    const ours = cells[key] ?? null;
    const vs = p && ours ? paperVerdict(p, ours) : null;
    const fixture = own && ours ? fixtureCheck(key, ours, own) : null;
    return {
      key,
      paper: p,
      ours,
      z: vs?.z ?? null,
      verdict: p ? (vs?.verdict ?? "not run") : null,
      fixture,
      checked: (checkPaper && vs !== null && !isOwnProtocolProbe(key)) || fixture !== null,
    };
  });
  const claims = checkClaims(cells, checkPaper ? paper.claims : own?.claims ?? {});
  const failures = [
    ...rows.filter((r) => r.checked && (r.fixture ? !r.fixture.ok : r.verdict !== "reproduced")).map((r) => r.key),
    ...claims.filter((c) => c.ok === false).map((c) => `claim ${c.id}`),
  ];
  return { profile, cells: rows, claims, failures };
}
