/**
 * The study's report: the side-by-side table (stdout and REPORT.md), the claims, every run with
 * its timings, the figures, and results.json with everything machine-readable.
 *
 * @module
 */

import type { Profile } from "../config.ts";
import type { RawResult } from "../eval/evaluate.ts";
import { writeTextAtomic } from "../files.ts";
import type { CellComparison, Comparison } from "../study/compare.ts";
import type { CellStats, RunRecord } from "../study/results.ts";
import { sortedInnerProductsFigure } from "./charts.ts";
import { studyLandscapeMarkdown } from "./landscape_report.ts";
import { formatDuration } from "../progress.ts";

/** The methods in words. */
export const METHOD_WORDS: Record<string, string> = {
  crltac: "CRL-TAC",
  simclr: "SimCLR",
  oracle: "oracle P (ablation)",
};

const WORDS: Record<string, string> = {
  shifted: "shifted",
  original: "original",
  head: "head",
  f: "f",
  integrated: "P-integrated",
  top8: "top-8",
  oracle: "oracle",
  raw: "raw pixels",
  concentration: "crop concentration",
  uniformity: "uniformity potential",
  paper: "paper's probe",
};

/**
 * A cell key in words: `shifted/crltac/head/top8` → `shifted · CRL-TAC · head · top-8`, and
 * `shifted/oracle/head/integrated/paper` → `shifted · oracle P (ablation) · head · P-integrated · paper's probe`.
 */
export function cellLabel(key: string): string {
  return key.split("/").map((w, i) => (i === 1 ? METHOD_WORDS[w] : undefined) ?? WORDS[w] ?? w).join(" · ");
}

function fmt(x: number): string {
  return x.toFixed(4);
}

/** `mean ± std (n)`, or `mean` for a single value. */
export function formatStats(s: CellStats | null): string {
  if (!s) return "not run";
  return s.n === 1 ? `${fmt(s.mean)} (n=1)` : `${fmt(s.mean)} ± ${fmt(s.std)} (n=${s.n})`;
}

function paperText(r: CellComparison): string {
  if (!r.paper) return "—";
  return r.paper.std === null ? fmt(r.paper.mean) : `${fmt(r.paper.mean)} ± ${fmt(r.paper.std)}`;
}

function fixtureText(r: CellComparison): string {
  if (!r.fixture) return "—";
  return `${r.fixture.ok ? "ok" : "FAIL"}: max |Δ| ${r.fixture.worst.toFixed(4)} (tol ${r.fixture.tolerance})`;
}

function rows(c: Comparison): string[][] {
  return c.cells.filter((r) => r.paper || r.ours).map((r) => [
    cellLabel(r.key),
    paperText(r),
    formatStats(r.ours),
    r.z === null ? "—" : `${r.z >= 0 ? "+" : ""}${r.z.toFixed(1)}`,
    r.verdict ?? "—",
    fixtureText(r),
  ]);
}

const HEADER = ["cell", "paper", "ours (mean ± std, n)", "Δ/σ", "vs paper", "fixture check"];

/** The comparison as aligned plain text, for stdout. */
export function comparisonText(c: Comparison): string {
  const table = [HEADER, ...rows(c)];
  const widths = HEADER.map((_, i) => Math.max(...table.map((r) => [...r[i]!].length)));
  const line = (r: string[]) => r.map((v, i) => v + " ".repeat(widths[i]! - [...v].length)).join("  ").trimEnd();
  const claims = c.claims.map((k) =>
    `  [${k.ok === null ? "not run" : k.ok ? "holds" : "FAILS"}] ${k.text}: ${k.detail}`
  );
  return [
    line(table[0]!),
    widths.map((w) => "─".repeat(w)).join("  "),
    ...table.slice(1).map(line),
    "",
    "Claims:",
    ...claims,
    "",
    verdictLine(c),
  ].join("\n");
}

/**
 * The study's verdict in one line. A profile without a fixture of its own (say, the medium
 * profile before its first complete study) checks nothing, and says so rather than "passes".
 */
export function verdictLine(c: Comparison): string {
  if (c.failures.length > 0) return `Checked comparisons that fail: ${c.failures.join(", ")}.`;
  const checked = c.cells.some((r) => r.checked) || c.claims.some((claim) => claim.ok !== null);
  return checked
    ? "Every checked comparison passes."
    : `Nothing is checked: no fixture for the ${c.profile} profile yet (write it with --update-fixtures).`;
}

/** The comparison as a Markdown table with the per-seed values listed. */
export function comparisonMarkdown(c: Comparison): string {
  const body = rows(c).map((r, i) => {
    const cell = c.cells.filter((x) => x.paper || x.ours)[i]!;
    const seeds = cell.ours && cell.ours.n > 1
      ? `<br><sub>${Object.entries(cell.ours.values).map(([s, v]) => `${s}: ${fmt(v)}`).join(", ")}</sub>`
      : "";
    const esc = (v: string) => v.replaceAll("|", "\\|");
    return `| ${esc(r[0]!)} | ${esc(r[1]!)} | ${esc(r[2]!)}${seeds} | ${esc(r[3]!)} | ${esc(r[4]!)} | ${esc(r[5]!)} |`;
  });
  return [`| ${HEADER.join(" | ")} |`, `|${HEADER.map(() => " --- ").join("|")}|`, ...body].join("\n");
}

/** Facts about the machine and software, for the report. */
export interface Environment {
  readonly versions: Readonly<Record<string, string>>;
  readonly backend: string;
  readonly adapter: string | null;
  readonly cpu: string;
  readonly cores: number;
  readonly os: string;
}

/** Reads the machine's description. */
export async function environment(
  backend: string,
  adapter: string | null,
  versions: Record<string, string>,
): Promise<Environment> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const cpu = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1] ?? "unknown";
  return {
    versions,
    backend,
    adapter,
    cpu,
    cores: navigator.hardwareConcurrency,
    os: `${Deno.build.os} ${Deno.build.arch}`,
  };
}

/** Everything the report shows. */
export interface ReportInput {
  readonly profile: Profile;
  readonly comparison: Comparison;
  readonly records: readonly RunRecord[];
  readonly raws: readonly RawResult[];
  readonly env: Environment;
  readonly time: StudyTime;
  readonly command: string;
}

/**
 * How long the study took: the wall clock of one `reproduce`, or, for a merge of folders run
 * elsewhere (whose wall clocks are unknown), each run's training, evaluation and landscape times
 * summed.
 */
export interface StudyTime {
  readonly ms: number;
  readonly kind: "wall" | "summed";
}

async function studyFigures(out: string, records: readonly RunRecord[]): Promise<string[]> {
  const lines: string[] = [];
  const first = (data: string, method: string) =>
    records.find((r) => r.spec.data === data && r.spec.method === method && r.eval);
  for (const data of ["shifted", "original"]) {
    const tac = first(data, "crltac"), sim = first(data, "simclr");
    if (!tac && !sim) continue;
    lines.push(`### ${data === "shifted" ? "Shifted" : "Original"} MNIST`, "");
    if (tac) {
      lines.push(
        `P(T|x) of CRL-TAC (${tac.name}) on test images (Fig. 3):`,
        "",
        `![Fig. 3](${tac.name}/figures/fig3-crop-heatmaps.png)`,
        "",
      );
      for (
        const [file, caption] of [
          ["policy-over-training.png", "Where P(T|x) went during training (whole-digit crops outlined in red)"],
          ["policy-training-curves.svg", "P(T|X)'s masses and entropy per iteration"],
        ]
      ) {
        if (tac.eval!.figures.includes(`figures/${file}`)) {
          lines.push(`${caption}:`, "", `![${caption}](${tac.name}/figures/${file})`, "");
        }
      }
    }
    const pair = [tac, sim].filter((r): r is RunRecord => r !== undefined);
    lines.push("200 superimposed head representations (Fig. 7):", "");
    for (const r of pair) lines.push(`![Fig. 7, ${r.name}](${r.name}/figures/fig7-representations.svg)`);
    lines.push("");
    const name = `fig8-inner-products-${data}.svg`;
    await writeTextAtomic(
      `${out}/${name}`,
      await sortedInnerProductsFigure(
        pair.map((r) => ({
          label: `${METHOD_WORDS[r.spec.method]} (seed ${r.spec.seed})`,
          values: [...r.eval!.innerProducts],
        })),
      ),
    );
    lines.push("Sorted |⟨h(x), h(x')⟩| over random test pairs (Fig. 8):", "", `![Fig. 8](${name})`, "");
  }
  return lines;
}

/** The landscape of objective (2) around the runs that have one (`deno task landscape`). */
function landscapeSection(records: readonly RunRecord[]): string[] {
  const landscapes = records.flatMap((r) => (r.landscape ? [r.landscape] : []));
  if (landscapes.length === 0) return [];
  return [
    "## The landscape of objective (2)",
    "",
    "Objective (2) computed exactly (every crop of every image, each crop's own term kept, the denominator over every " +
    "crop of every image of a batch) for each run's encoder, at its own P(T|X) and at fixed crop distributions; " +
    "I + λH is what the P-step maximises, at the run's λ. Mean ± std over seeds.",
    "",
    ...studyLandscapeMarkdown(landscapes),
  ];
}

/**
 * How the paper's probe protocol ended on the runs: scikit-learn stops at 100 iterations and
 * warns when the gradient test is not met, so how many fits stopped there matters for reading
 * its numbers.
 */
export function paperProbeNote(records: readonly RunRecord[]): string {
  const fits = records.flatMap((r) =>
    Object.entries(r.eval?.probes ?? {}).filter(([key]) => key.endsWith("/paper")).map(([, p]) => p)
  );
  if (fits.length === 0) return "The paper's probe protocol was not run on these runs.";
  const stopped = fits.filter((p) => !p.converged);
  const largest = Math.max(...fits.map((p) => p.gradNorm));
  return `The paper's probe protocol (scikit-learn's \`LogisticRegression()\` defaults on raw features): ` +
    `${stopped.length} of ${fits.length} fits stopped at 100 iterations before the gradient test ` +
    `(largest |gradient| ≤ 1e-4), as scikit-learn would with a ConvergenceWarning; the largest final ` +
    `max-abs gradient was ${largest.toExponential(1)}.`;
}

/**
 * Writes REPORT.md and results.json into `out`.
 *
 * @returns The paths written.
 */
export async function writeReport(out: string, input: ReportInput): Promise<string[]> {
  const { profile, comparison, records, raws, env } = input;
  const gib = (bytes: number | null | undefined) => (bytes ? `${(bytes / 2 ** 30).toFixed(2)}` : "—");
  const runRows = records.map((r) => {
    const s = r.summary, e = r.eval;
    const train = s ? formatDuration(s.trainMs / 1000) : "—";
    const perIteration = s ? (s.trainMs / Math.max(1, s.steps) / 1000).toFixed(2) : "—";
    const evaluation = e ? formatDuration(e.ms / 1000) : "—";
    const crops = e?.crops;
    const stat = (v: number | undefined, digits = 3) => (v === undefined ? "—" : v.toFixed(digits));
    const sha = s ? `\`${s.weightsSha256.slice(0, 12)}\`` : "—";
    return `| ${r.name} | ${s?.steps ?? "—"} | ${train} | ${perIteration} | ${evaluation} | ${gib(s?.peakRssBytes)} / ${
      gib(e?.peakRssBytes)
    } | ${stat(crops?.concentration)} | ${stat(crops?.halfCellMass)} | ${stat(crops?.wholeDigitMass)} | ${
      stat(crops?.entropy, 2)
    } | ${sha} |`;
  });
  const rawRows = raws.flatMap((r) =>
    ([["to the optimum", r.probe], ["the paper's (at most 100 iterations)", r.paperProbe]] as const).flatMap((
      [protocol, probe],
    ) =>
      probe
        ? [
          `| ${r.data} | ${protocol} | ${
            fmt(probe.accuracy)
          } | ${r.probeTrainSize} / ${r.probeTestSize} | ${probe.iterations} | ${probe.gradNorm.toExponential(1)} | ${
            probe.converged ? "yes" : "no"
          } |`,
        ]
        : []
    )
  );
  const md = [
    `# CRL-TAC reproduction: ${profile.name} profile`,
    "",
    `${profile.description}. Command: \`${input.command}\`. ${
      input.time.kind === "wall" ? "Wall time" : "Training, evaluation and landscapes summed over the runs"
    } ${formatDuration(input.time.ms / 1000)}.`,
    "",
    `Machine: ${env.cpu}, ${env.cores} cores, ${env.os}; backend ${env.backend}${
      env.adapter ? ` (adapter: ${env.adapter})` : ""
    }. ` +
    `Versions: ${Object.entries(env.versions).map(([k, v]) => `${k} ${v}`).join(", ")}.`,
    "",
    "## Comparison",
    "",
    "Δ/σ is (ours − paper) over the combined standard deviation of the seeds (floored at 0.005); " +
    "a cell is reproduced within 2σ. The fixture check compares every seed with this package's own " +
    `fixture (fixtures/${profile.name}.json). ${
      profile.name === "paper"
        ? "Every paper cell and claim is checked."
        : "Checked here: the fixture and the claims listed below; the paper cells are shown for context only, as this profile is far smaller than the paper's setting."
    }`,
    "",
    comparisonMarkdown(comparison),
    "",
    "## Claims",
    "",
    ...comparison.claims.map((c) =>
      `- **${c.ok === null ? "not run" : c.ok ? "holds" : "fails"}**: ${c.text} — ${c.detail}`
    ),
    "",
    verdictLine(comparison),
    "",
    "## Runs",
    "",
    "P(T|X) on the test images: its mass on non-empty crops (the paper's crop concentration), on crops at least " +
    "half inside the digit's cell, on the 9 whole-digit crops, and its entropy (uniform P on shifted MNIST: " +
    "0.16, 0.09, 0.031, ln 289 = 5.67 nats; on original MNIST all 9 crops lie in the cell and uniform's entropy is " +
    "ln 9 = 2.20). Peak memory is the resident set of the training / evaluation process.",
    "",
    "| run | iterations | training | s/iteration | evaluation | peak memory, GiB (training / evaluation) | non-empty | ≥½ cell | whole digit | entropy | weights sha256 |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...runRows,
    "",
    paperProbeNote(records),
    "",
    "Raw-pixel baselines (probe on pixels in [0, 1], unstandardised):",
    "",
    "| data | probe | accuracy | probe train / test images | L-BFGS iterations | final max-abs gradient | converged |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rawRows,
    "",
    ...landscapeSection(records),
    "## Figures",
    "",
    ...(await studyFigures(out, records)),
  ].join("\n");
  await writeTextAtomic(`${out}/REPORT.md`, md + "\n");
  const results = {
    profile: profile.name,
    command: input.command,
    time: { ms: Math.round(input.time.ms), kind: input.time.kind },
    environment: env,
    settings: { train: profile.train, eval: profile.eval, seeds: profile.seeds },
    comparison,
    runs: records.map((r) => ({
      name: r.name,
      spec: r.spec,
      summary: r.summary,
      eval: r.eval,
      landscape: r.landscape,
    })),
    raw: raws,
  };
  await writeTextAtomic(`${out}/results.json`, JSON.stringify(results, null, 2) + "\n");
  return [`${out}/REPORT.md`, `${out}/results.json`];
}
