/** Landscape rows and curves for the report tests: an oracle run on shifted MNIST at λ = 0.0025. */

import type { CurveEntry, LandscapeCurve, LandscapeRow } from "../../src/eval/landscape.ts";

/** A landscape row of `name` with its I and H, scored at λ = 0.0025. */
export function landscapeRow(name: LandscapeRow["name"], objective: number, entropy: number): LandscapeRow {
  return {
    name,
    objective,
    entropy,
    score: objective + 0.0025 * entropy,
    concentration: 1,
    wholeDigitMass: name === "wholeDigit" ? 1 : 0,
  };
}

/** An oracle's rows (its P is the whole-digit crops), the centre crop `gap` above them. */
export function oracleRows(gap: number, whole = 0.4748): LandscapeRow[] {
  return [
    landscapeRow("run", whole, Math.log(9)),
    landscapeRow("uniform", 0.002, Math.log(289)),
    landscapeRow("wholeDigit", whole, Math.log(9)),
    landscapeRow("centre", whole + gap, 0),
  ];
}

/** An oracle's curve of `entries`, on 256 images in batches of 64. */
export function oracleCurve(entries: CurveEntry[]): LandscapeCurve {
  const header = { run: "r", method: "oracle", data: "shifted", seed: 0, lambda: 0.0025, beta: 0.5 };
  return { ...header, images: 256, batch: 64, entries };
}
