/**
 * A sweep's results as Markdown: one row per variant (mean ± std over seeds), one row per run,
 * and λ by the paper's rule beside the probe's choice.
 *
 * @module
 */

import { SWEEP_METRICS, type SweepGrid, type SweepResult } from "../study/sweep.ts";

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

function value(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : "—";
}

/** The sweep's report: the grid, the tables, and the λ choices. */
export function sweepMarkdown(grid: SweepGrid, result: SweepResult, command: string): string {
  const labels = SWEEP_METRICS.map((m) => m.label);
  const summary = result.variants.map((v) => [
    `\`${v.variant.name}\``,
    v.variant.method === "simclr" ? "—" : String(v.lambda),
    String(Object.keys(v.seeds).length),
    ...SWEEP_METRICS.map((m) =>
      `${value(v.mean[m.key], m.digits)}${Object.keys(v.seeds).length > 1 ? ` ± ${value(v.std[m.key], m.digits)}` : ""}`
    ),
  ]);
  const perRun = result.variants.flatMap((v) =>
    Object.entries(v.seeds).map(([seed, row]) => [
      `\`${v.variant.name}\``,
      seed,
      ...SWEEP_METRICS.map((m) => value(row[m.key], m.digits)),
    ])
  );
  const choices = result.lambda.map((c) =>
    `- **${c.family}**: λ = ${c.byPaperRule} by the paper's rule (lowest training h-loss: ${
      c.candidates.map((k) => `${k.lambda} → ${k.hLoss.toFixed(4)}`).join(", ")
    }); the probe would have picked λ = ${c.byProbe} (head P-integrated: ${
      c.candidates.map((k) => `${k.lambda} → ${k.headAccuracy.toFixed(3)}`).join(", ")
    }), reported only.`
  );
  const descriptions = grid.variants.map((v) => `- \`${v.name}\`: ${v.description}`);
  return [
    `# Sweep \`${grid.name}\``,
    "",
    `${grid.description}. Profile \`${grid.profile}\` with ${
      JSON.stringify(grid.base)
    } on every run. Runs: \`${command}\` (finished runs are skipped, so it also completes a partial table).`,
    "",
    "Columns: h-loss is the mean of the logged h-step loss over the last epoch (the training set); s/iteration is " +
    "wall time, with as many runs sharing the machine's cores as the sweep ran at a time; P's statistics " +
    "and the probes are on the profile's test images; whole-digit mass is P's mass on the 9 crops inside the digit's " +
    "cell (uniform: 0.031), ≥½-cell mass on crops at least half inside it, concentration (the paper's crop concentration) on crops with a digit " +
    "pixel (uniform: 0.16); accuracies are linear probes on P-integrated and oracle-weighted features (the paper's oracle: " +
    "the 9 whole-digit crops).",
    "",
    "## Mean ± std over seeds",
    "",
    table(["variant", "λ", "seeds", ...labels], summary),
    "",
    "## λ",
    "",
    ...(choices.length ? choices : ["No λ family has two evaluated variants yet."]),
    "",
    "## Every run",
    "",
    table(["variant", "seed", ...labels], perRun),
    "",
    "## Variants",
    "",
    ...descriptions,
    "",
  ].join("\n");
}
