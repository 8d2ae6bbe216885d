import assert from "node:assert/strict";
import { resolveConfig, sameScience } from "../../src/config.ts";
import type { EvalResult } from "../../src/eval/evaluate.ts";
import { sweepMarkdown } from "../../src/report/sweep_report.ts";
import { runName } from "../../src/study/plan.ts";
import { readJson, readRun, type RunRecord } from "../../src/study/results.ts";
import { studyConfig } from "../../src/study/runner.ts";
import { aggregateSweep, GRIDS, type SweepGrid, sweepRuns, type SweepVariant } from "../../src/study/sweep.ts";
import type { TrainSummary } from "../../src/train/trainer.ts";

const GRID: SweepGrid = {
  name: "test",
  description: "a test grid",
  profile: "smoke",
  base: { trainSize: 512 },
  seeds: [0, 1],
  variants: [
    { name: "a", overrides: {}, description: "λ from the profile", family: "f" },
    { name: "b", overrides: { lambda: 0.01 }, description: "larger λ", family: "f" },
    { name: "ref", method: "simclr", overrides: {}, description: "reference" },
  ],
};

/** A record of variant `v`, seed `seed`, with the given training h-loss and head accuracy. */
function record(v: string, seed: number, hLoss: number, head: number): RunRecord {
  const spec = sweepRuns(GRID).find((r) => r.variant!.name === v && r.seed === seed)!;
  const probe = (accuracy: number) => ({ accuracy }) as EvalResult["probes"][string];
  return {
    name: runName(spec),
    spec,
    summary: { final: { hLoss }, trainMs: 8000, steps: 8 } as unknown as TrainSummary,
    eval: {
      probes: {
        "head/integrated": probe(head),
        "head/oracle": probe(0.7),
        "f/integrated": probe(0.5),
        "f/oracle": probe(0.8),
      },
      crops: { entropy: 2, wholeDigitMass: 0.1, halfCellMass: 0.3, concentration: 0.8 },
      uniformity: { potential: 0.2 },
    } as unknown as EvalResult,
    landscape: null,
  };
}

Deno.test("sweepRuns() gives every variant each seed, with the grid's base and its own overrides", () => {
  const runs = sweepRuns(GRID);
  assert.deepEqual(runs.map(runName), [
    "a/shifted-crltac-seed0",
    "a/shifted-crltac-seed1",
    "b/shifted-crltac-seed0",
    "b/shifted-crltac-seed1",
    "ref/shifted-simclr-seed0",
    "ref/shifted-simclr-seed1",
  ]);
  const config = studyConfig("smoke", runs[2]!, "wasm");
  assert.equal(config.trainSize, 512);
  assert.equal(config.lambda, 0.01);
  assert.deepEqual(
    config,
    resolveConfig("smoke", "shifted", "crltac", 0, { trainSize: 512, lambda: 0.01, backend: "wasm" }),
  );
});

Deno.test("aggregateSweep() takes mean ± std over seeds and picks λ by the lowest training h-loss, not the probe", () => {
  const records = [
    record("a", 0, -0.10, 0.30),
    record("a", 1, -0.20, 0.40),
    record("b", 0, -0.05, 0.60),
    record("b", 1, -0.05, 0.70),
    record("ref", 0, 0, 0.5),
  ];
  const result = aggregateSweep(GRID, records, 0.0025);
  const a = result.variants.find((v) => v.variant.name === "a")!;
  assert.ok(Math.abs(a.mean.hLoss + 0.15) < 1e-12 && Math.abs(a.std.hLoss - 0.05) < 1e-12);
  assert.equal(a.mean.msPerIteration, 1);
  assert.equal(a.lambda, 0.0025);
  assert.deepEqual(result.lambda.map((c) => [c.family, c.byPaperRule, c.byProbe]), [["f", 0.0025, 0.01]]);
  assert.equal(result.variants.find((v) => v.variant.name === "ref")!.seeds["1"], undefined);
  const md = sweepMarkdown(GRID, result, "deno task sweep --grid test");
  assert.match(md, /λ = 0.0025 by the paper's rule/);
  assert.match(md, /\| `a` \| 0 \| -0.1000 \|/);
});

Deno.test("the committed P-step study (studies/sweep-pstep) was trained from this grid's configs", async () => {
  const grid = GRIDS.pstep!;
  const root = new URL("../../studies/sweep-pstep/", import.meta.url).pathname;
  const table = (await readJson<{ variants: { variant: SweepVariant }[] }>(`${root}sweep.json`))!;
  for (const { variant } of table.variants) {
    assert.deepEqual(grid.variants.find((v) => v.name === variant.name), variant, variant.name);
  }
  let found = 0;
  for (const spec of sweepRuns(grid)) {
    const summary = (await readRun(`${root}${runName(spec)}`, runName(spec), spec)).summary;
    if (!summary) continue; // defined in the grid, not run yet
    found++;
    assert.ok(sameScience(summary.config, studyConfig(grid.profile, spec, "auto")), runName(spec));
  }
  assert.ok(found >= 2 * table.variants.length, `${found} runs`);
});
