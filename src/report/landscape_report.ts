/**
 * The landscape of objective (2) in words and tables: one run's (`deno task landscape`), and a
 * study's, as mean ± std over the seeds of each method (REPORT.md). Which distribution is best for
 * which λ is derived from the rows here, so that a `landscape.json` written before it recorded
 * `best` reads the same.
 *
 * @module
 */

import { type Method, METHODS } from "../config.ts";
import { DATASET_NAMES, type DatasetName } from "../data/dataset.ts";
import {
  bestByLambda,
  type BestRange,
  type Crossing,
  type CurveEntry,
  type LandscapeCurve,
  type LandscapeEntry,
  type LandscapeResult,
  wholeDigitCrossing,
} from "../eval/landscape.ts";
import { meanStd } from "../eval/metrics.ts";

/** Each distribution in words. */
export const LANDSCAPE_WORDS: Record<LandscapeEntry, string> = {
  run: "the run's P(T|X)",
  argmax: "its argmax (1 crop per image)",
  uniform: "uniform over all crops",
  wholeDigit: "the 9 whole-digit crops",
  centre: "the centre whole-digit crop",
  nonEmpty: "all non-empty crops",
  partial: "1 partial crop",
  empty: "1 empty crop",
};

/** A distribution's words inside a Markdown table cell. */
function words(name: LandscapeEntry): string {
  return LANDSCAPE_WORDS[name].replaceAll("|", "\\|");
}

/** Where the whole-digit crops win, in words: "λ > 0.31", "every λ", "no λ ≥ 0". */
export function crossingText(c: Crossing): string {
  if (c.relation === "always") return "every λ ≥ 0";
  if (c.relation === "never") return "no λ ≥ 0";
  return `λ ${c.relation === "above" ? ">" : "<"} ${formatLambda(c.lambda!)}`;
}

/** The upper envelope in words: "1 partial crop for λ < 0.031, uniform (289 crops) above". */
export function bestText(best: readonly BestRange[]): string {
  return best.map((b, i) =>
    `${LANDSCAPE_WORDS[b.name]} ${
      best.length === 1
        ? "for every λ ≥ 0"
        : i === 0
        ? `for λ < ${formatLambda(b.to!)}`
        : b.to === null
        ? `for λ > ${formatLambda(b.from)}`
        : `for ${formatLambda(b.from)} < λ < ${formatLambda(b.to)}`
    }`
  ).join(", ");
}

function formatLambda(x: number): string {
  return x >= 0.01 ? x.toFixed(3) : x.toExponential(2);
}

/**
 * I(centre) − I(whole digits) and its standard error where known, both to the error's second
 * significant digit and at least 4 decimals: "0.00557 ± 0.00031", "0.0161 ± 0.0027".
 */
function gapText(gap: number, stdErr: number | null | undefined): string {
  if (typeof stdErr !== "number" || !(stdErr > 0)) return gap.toFixed(4);
  const decimals = Math.min(8, Math.max(4, 1 - Math.floor(Math.log10(stdErr))));
  return `${gap.toFixed(decimals)} ± ${stdErr.toFixed(decimals)}`;
}

const HEADER =
  "| crop distribution | I(P), objective (2) | H(T\\|X) | I + λH | mass on non-empty crops | mass on whole-digit crops |";
const RULE = "| --- | --- | --- | --- | --- | --- |";

/** One run's landscape as a Markdown table and a line on the whole-digit crops. */
export function landscapeMarkdown(r: LandscapeResult): string {
  const f = (x: number) => x.toFixed(4);
  return [
    `Objective (2) on the first ${r.images} training images in batches of ${r.batch} ` +
    `(${r.method}, ${r.data}, seed ${r.seed}; β = ${r.beta}, λ = ${r.lambda}):`,
    "",
    HEADER,
    RULE,
    ...r.rows.map((row) =>
      `| ${words(row.name)} | ${f(row.objective)} | ${f(row.entropy)} | ${f(row.score)} | ${f(row.concentration)} | ${
        f(row.wholeDigitMass)
      } |`
    ),
    "",
    `The 9 whole-digit crops score higher than the run's P(T|X) for ${crossingText(r.wholeDigit)}. ` +
    `Of the distributions above, I + λH is highest for: ${bestText(bestByLambda(r.rows))}.`,
    ...centreGapLines(r),
  ].join("\n");
}

/**
 * The gap I(centre) − I(whole digits) (± its standard error over the batches, where the file has
 * it) and the λ from which the whole-digit crops beat the centre crop: its gap / ln 9.
 */
function centreGapLines(r: LandscapeResult): string[] {
  const row = (name: LandscapeEntry) => r.rows.find((x) => x.name === name)!;
  const whole = row("wholeDigit"), centre = row("centre");
  const gap = centre.objective - whole.objective;
  const error = typeof r.gapStdErr === "number"
    ? ` (± one standard error over its ${Math.ceil(r.images / r.batch)} batches)`
    : "";
  return [
    "",
    `I(centre crop) − I(9 whole-digit crops) = ${gapText(gap, r.gapStdErr)} nats${error}: the whole-digit crops ` +
    `score higher than the centre crop for ${crossingText(wholeDigitCrossing(centre, whole))}.`,
  ];
}

/**
 * A study's landscapes, one table per method and dataset, each value mean ± std over the seeds,
 * and each seed's λ at which the whole-digit crops would win.
 */
export function studyLandscapeMarkdown(results: readonly LandscapeResult[]): string[] {
  // The study's order: shifted MNIST first, then the methods as METHODS lists them.
  const rank = (r: LandscapeResult) =>
    DATASET_NAMES.indexOf(r.data as DatasetName) * METHODS.length + METHODS.indexOf(r.method as Method);
  const groups = new Map<string, LandscapeResult[]>();
  for (const r of [...results].sort((a, b) => rank(a) - rank(b) || a.seed - b.seed)) {
    groups.set(`${r.data}/${r.method}`, [...(groups.get(`${r.data}/${r.method}`) ?? []), r]);
  }
  const lines: string[] = [];
  const ms = (xs: number[]) => {
    const s = meanStd(xs);
    return xs.length > 1 ? `${s.mean.toFixed(4)} ± ${s.std.toFixed(4)}` : s.mean.toFixed(4);
  };
  for (const [key, runs] of groups) {
    const first = runs[0]!;
    lines.push(
      `**${key}** (${runs.length} seed${runs.length > 1 ? "s" : ""}; first ${first.images} training images, ` +
        `batches of ${first.batch}, β = ${first.beta}, λ = ${first.lambda}):`,
      "",
      HEADER,
      RULE,
      ...first.rows.map((row, k) => {
        const col = (pick: (r: LandscapeResult["rows"][number]) => number) => ms(runs.map((r) => pick(r.rows[k]!)));
        return `| ${words(row.name)} | ${col((x) => x.objective)} | ${col((x) => x.entropy)} | ${
          col((x) => x.score)
        } | ${col((x) => x.concentration)} | ${col((x) => x.wholeDigitMass)} |`;
      }),
      "",
      `The 9 whole-digit crops would score higher than the run's P(T|X) for: ${
        runs.map((r) => `seed ${r.seed} ${crossingText(r.wholeDigit)}`).join("; ")
      }. Of the distributions above, I + λH is highest for: ${
        runs.map((r) => `seed ${r.seed}: ${bestText(bestByLambda(r.rows))}`).join("; ")
      }.`,
      "",
    );
  }
  return lines;
}

/**
 * A landscape curve as a Markdown table: per snapshot, I of the centre crop, the whole-digit
 * crops and uniform, the gap, the λ window in which the whole-digit crops win, and the run's P
 * where it is learned.
 */
export function curveMarkdown(c: LandscapeCurve): string {
  const f = (x: number) => x.toFixed(4);
  const learned = c.entries.some((e) => e.rows.some((r) => r.name === "argmax"));
  const rowOf = (e: CurveEntry, name: LandscapeEntry) => e.rows.find((r) => r.name === name)!;
  const window = (e: CurveEntry) =>
    e.window ? `${formatLambda(e.window.from)} – ${e.window.to === null ? "∞" : formatLambda(e.window.to)}` : "none";
  return [
    `Objective (2) along training on the first ${c.images} training images in batches of ${c.batch} ` +
    `(${c.method}, ${c.data}, seed ${c.seed}; β = ${c.beta}; λ·ln 9 = ${
      f(c.lambda * Math.log(9))
    } at λ = ${c.lambda}):`,
    "",
    "| iteration | I(centre) | I(whole digits) | I(uniform) | gap ± s.e. | λ window of the whole digits |" +
    (learned ? " I(run's P) | H(run's P) |" : ""),
    "| --- | --- | --- | --- | --- | --- |" + (learned ? " --- | --- |" : ""),
    ...c.entries.map((e) => {
      const run = rowOf(e, "run");
      return `| ${e.iteration} | ${f(rowOf(e, "centre").objective)} | ${f(rowOf(e, "wholeDigit").objective)} | ${
        f(rowOf(e, "uniform").objective)
      } | ${gapText(e.gap, e.gapStdErr)} | ${window(e)} |` +
        (learned ? ` ${f(run.objective)} | ${f(run.entropy)} |` : "");
    }),
  ].join("\n");
}
