import assert from "node:assert/strict";
import { compare, type OwnFixture, type PaperFixture } from "../../src/study/compare.ts";
import { aggregate, cellStats, readJson, readRaw, readRun } from "../../src/study/results.ts";
import { runName, studyRuns } from "../../src/study/plan.ts";
import { PROFILES } from "../../src/config.ts";
import { comparisonMarkdown, comparisonText, verdictLine } from "../../src/report/report.ts";

const paper: PaperFixture = {
  cells: {
    "shifted/crltac/head/integrated": { mean: 0.955, std: 0.0023, source: "Table 1" },
    "shifted/simclr/head/integrated": { mean: 0.3156, std: 0.0044, source: "Table 1" },
    "shifted/crltac/concentration": { mean: 0.998, std: 0.003, source: "text" },
  },
  claims: { headAdvantage: { minGap: 0 }, concentration: { min: 0.99 }, uniformity: { maxRatio: 0.5 } },
};

const cells = {
  "shifted/crltac/head/integrated": cellStats({ 0: 0.95, 1: 0.954 }),
  "shifted/simclr/head/integrated": cellStats({ 0: 0.5, 1: 0.52 }),
  "shifted/crltac/head/integrated/paper": cellStats({ 0: 0.94, 1: 0.95 }),
  "shifted/simclr/head/integrated/paper": cellStats({ 0: 0.31, 1: 0.32 }),
  "shifted/crltac/concentration": cellStats({ 0: 0.999, 1: 0.997 }),
  "shifted/crltac/uniformity": cellStats({ 0: 0.1, 1: 0.12 }),
  "shifted/simclr/uniformity": cellStats({ 0: 0.97, 1: 0.98 }),
};

Deno.test("compare() gives each paper cell a verdict in units of the combined std", () => {
  const c = compare("paper", cells, paper, null);
  const row = (key: string) => c.cells.find((r) => r.key === key)!;
  const tac = row("shifted/crltac/head/integrated");
  // ours 0.952 ± 0.002, paper 0.955 ± 0.0023: combined 0.00305 < floor 0.005 → z = −0.6.
  assert.ok(Math.abs(tac.z! - (0.952 - 0.955) / 0.005) < 1e-9);
  assert.equal(tac.verdict, "reproduced");
  assert.equal(row("shifted/simclr/head/integrated").verdict, "not reproduced");
  assert.equal(row("shifted/crltac/uniformity").verdict, null);
  // Both probe protocols are compared with the paper's one number; only the paper's protocol is checked.
  const paperProbe = row("shifted/simclr/head/integrated/paper");
  assert.deepEqual(paperProbe.paper, paper.cells["shifted/simclr/head/integrated"]);
  assert.equal(paperProbe.verdict, "reproduced");
  assert.equal(paperProbe.checked, true);
  assert.equal(row("shifted/simclr/head/integrated").checked, false);
  assert.deepEqual(c.failures, []);
  const wrong = compare(
    "paper",
    { ...cells, "shifted/crltac/head/integrated/paper": cellStats({ 0: 0.3 }) },
    paper,
    null,
  );
  assert.deepEqual(wrong.failures, ["shifted/crltac/head/integrated/paper"]);
  // Each probe cell is followed by the same cell under the paper's protocol.
  const keys = c.cells.map((r) => r.key);
  assert.equal(
    keys.indexOf("shifted/simclr/head/integrated/paper"),
    keys.indexOf("shifted/simclr/head/integrated") + 1,
  );
  assert.deepEqual(c.claims.map((k) => [k.id, k.ok]), [["headAdvantage", true], ["concentration", true], [
    "uniformity",
    true,
  ]]);
});

Deno.test("compare()'s head-advantage claim reads the protocol it names", () => {
  // This package's probe has SimCLR ahead, the paper's has CRL-TAC ahead.
  const flipped = {
    ...cells,
    "shifted/crltac/head/integrated": cellStats({ 0: 0.3, 1: 0.32 }),
    "shifted/simclr/head/integrated": cellStats({ 0: 0.5, 1: 0.52 }),
    "shifted/crltac/head/integrated/paper": cellStats({ 0: 0.23, 1: 0.25 }),
    "shifted/simclr/head/integrated/paper": cellStats({ 0: 0.1, 1: 0.11 }),
  };
  const claim = (protocol?: "paper") =>
    compare("paper", flipped, {
      ...paper,
      claims: { headAdvantage: { minGap: 0.05, ...(protocol ? { protocol } : {}) } },
    }, null).claims[0]!;
  assert.equal(claim().ok, false);
  assert.equal(claim("paper").ok, true);
  assert.match(claim("paper").detail, /CRL-TAC 0\.2400 vs SimCLR 0\.1050/);
});

Deno.test("compare() on the smoke profile checks the own fixture per seed, not the paper", () => {
  const own: OwnFixture = {
    profile: "smoke",
    tolerances: { accuracy: 0.03, concentration: 0.05, uniformity: 0.05 },
    cells: {
      "shifted/crltac/head/integrated": cellStats({ 0: 0.95, 1: 0.90 }),
      "shifted/crltac/uniformity": cellStats({ 0: 0.1, 1: 0.12 }),
    },
    claims: { uniformity: { maxRatio: 0.1 } },
  };
  const c = compare("smoke", cells, paper, own);
  const tac = c.cells.find((r) => r.key === "shifted/crltac/head/integrated")!;
  assert.equal(tac.fixture!.ok, false);
  assert.ok(Math.abs(tac.fixture!.worst - 0.054) < 1e-9);
  assert.equal(c.cells.find((r) => r.key === "shifted/crltac/uniformity")!.fixture!.ok, true);
  // The paper cells are shown but not checked at this scale.
  assert.equal(c.cells.find((r) => r.key === "shifted/simclr/head/integrated")!.checked, false);
  assert.deepEqual(c.failures, ["shifted/crltac/head/integrated", "claim uniformity"]);
});

Deno.test("compare() marks claims whose runs are missing as not run, not as failures", () => {
  const c = compare("paper", { "shifted/crltac/concentration": cellStats({ 0: 0.999 }) }, paper, null);
  assert.deepEqual(c.claims.map((k) => k.ok), [null, true, null]);
  assert.equal(c.cells.find((r) => r.key === "shifted/simclr/head/integrated")!.verdict, "not run");
  assert.deepEqual(c.failures, []);
});

Deno.test("a profile without its own fixture says nothing was checked, not that everything passed", () => {
  const none = compare("medium", cells, paper, null);
  assert.ok(none.cells.every((r) => !r.checked));
  assert.equal(
    verdictLine(none),
    "Nothing is checked: no fixture for the medium profile yet (write it with --update-fixtures).",
  );
  assert.match(comparisonText(none), /Nothing is checked/);
  const passing = compare("paper", { "shifted/crltac/concentration": cellStats({ 0: 0.999 }) }, paper, null);
  assert.equal(verdictLine(passing), "Every checked comparison passes.");
});

Deno.test("the comparison renders as a text table and as Markdown with every seed's value", () => {
  const c = compare("paper", cells, paper, null);
  const text = comparisonText(c);
  assert.match(
    text,
    /shifted · CRL-TAC · head · P-integrated\s+0\.9550 ± 0\.0023\s+0\.9520 ± 0\.0020 \(n=2\)\s+-0\.6\s+reproduced/,
  );
  assert.match(
    text,
    /shifted · SimCLR · head · P-integrated · paper's probe\s+0\.3156 ± 0\.0044\s+0\.3150 ± 0\.0050 \(n=2\)\s+-0\.1\s+reproduced/,
  );
  const failing = comparisonText(
    compare("paper", { ...cells, "shifted/simclr/head/integrated/paper": cellStats({ 0: 0.5 }) }, paper, null),
  );
  assert.match(failing, /Checked comparisons that fail: shifted\/simclr\/head\/integrated\/paper\./);
  const md = comparisonMarkdown(c);
  assert.match(md, /<sub>0: 0\.9500, 1: 0\.9540<\/sub>/);
});

Deno.test("Markdown cells escape the pipes of |Δ| so the table keeps its columns", () => {
  const own: OwnFixture = {
    profile: "smoke",
    tolerances: { accuracy: 0.03, concentration: 0.05, uniformity: 0.05 },
    cells: { "shifted/crltac/head/integrated": cellStats({ 0: 0.95, 1: 0.954 }) },
    claims: {},
  };
  const md = comparisonMarkdown(compare("smoke", cells, paper, own));
  const row = md.split("\n").find((l) => l.startsWith("| shifted · CRL-TAC · head · P-integrated"))!;
  assert.equal(row.replaceAll("\\|", "").split("|").length - 2, 6);
  assert.match(row, /ok: max \\\|Δ\\\| 0\.0000 \(tol 0\.03\)/);
});

Deno.test("fixtures/medium.json is the committed 4-seed medium study in studies/medium, and its claims hold on it", async () => {
  const root = new URL("../../", import.meta.url);
  const study = new URL("studies/medium/", root).pathname;
  const own = (await readJson<OwnFixture>(new URL("fixtures/medium.json", root)))!;
  const paperFixture = (await readJson<PaperFixture>(new URL("fixtures/paper.json", root)))!;
  const records = await Promise.all(
    studyRuns(PROFILES.medium.seeds).map((spec) => readRun(study + runName(spec), runName(spec), spec)),
  );
  const raws = await Promise.all(["shifted", "original"].map((d) => readRaw(`${study}raw-${d}.json`)));
  const cells = aggregate(records, raws.map((r) => r!));
  assert.deepEqual(Object.keys(own.cells).sort(), Object.keys(cells).sort());
  for (const [key, cell] of Object.entries(own.cells)) assert.deepEqual(cell.values, cells[key]!.values, key);
  assert.equal(Object.keys(own.cells["shifted/crltac/head/integrated"]!.values).length, 4);
  const c = compare("medium", cells, paperFixture, own);
  assert.deepEqual(c.claims.map((k) => [k.id, k.ok]), [["headAdvantage", true], ["concentration", true], [
    "uniformity",
    true,
  ]]);
  assert.deepEqual(c.failures, []);
});
