import assert from "node:assert/strict";
import { type Method, resolveConfig } from "../../src/config.ts";
import { runName, studyRuns } from "../../src/study/plan.ts";

import { inTempDir } from "../temp_dirs.ts";
import { runDeno, scriptPath } from "../subprocess.ts";

const MERGE = scriptPath("merge");

/** `deno task merge --out OUT SHARD...`. */
const merge = (out: string, ...shards: string[]) => runDeno(["run", "--allow-all", MERGE, "--out", out, ...shards]);

/** A finished run folder with made-up numbers: enough of summary.json and eval.json to report. */
async function fakeRun(dir: string, data: "shifted" | "original", method: Method, seed: number) {
  const name = runName({ data, method, seed });
  await Deno.mkdir(`${dir}/${name}/figures`, { recursive: true });
  const config = resolveConfig("smoke", data, method, seed);
  const backend = { backend: "wasm", adapter: null, fallbackAdapter: null, versions: { deno: "2.9.6" } };
  await Deno.writeTextFile(
    `${dir}/${name}/summary.json`,
    JSON.stringify({ config, backend, epochs: 1, steps: 32, trainMs: 1000, final: {}, weightsSha256: "ab".repeat(32) }),
  );
  const probe = (accuracy: number) => ({
    accuracy,
    trainAccuracy: 1,
    converged: true,
    iterations: 9,
    gradNorm: 1e-6,
    loss: 0.1,
    ms: 5,
  });
  const probes: Record<string, unknown> = {
    "head/integrated": probe(0.5 + seed / 100),
    "f/integrated": probe(0.6),
    "head/oracle": probe(0.7),
    "f/oracle": probe(0.8),
  };
  await Deno.writeTextFile(
    `${dir}/${name}/eval.json`,
    JSON.stringify({
      run: name,
      method,
      data,
      seed,
      weightsSha256: "ab".repeat(32),
      backend,
      probeTrainSize: 1024,
      probeTestSize: 1000,
      probes,
      crops: {
        entropy: 1,
        concentration: method === "crltac" ? 0.9 : 0.16,
        wholeDigitMass: 0.3,
        cellOverlap: 0.6,
        maxProb: 0.5,
        concentrationStd: 0.1,
        concentrationAbove099: 0.2,
      },
      uniformity: { potential: method === "crltac" ? 0.2 : 0.99, pairs: 10 },
      innerProducts: [1, 0.5, 0],
      figures: [],
      ms: 1000,
    }),
  );
}

Deno.test("merge combines shard folders into the report a single study would give", () =>
  inTempDir(async (root) => {
    const runs = studyRuns([0, 1]).filter((r) => r.data === "shifted");
    for (const [k, r] of runs.entries()) await fakeRun(`${root}/shard-${(k % 2) + 1}`, r.data, r.method, r.seed);
    const out = await merge(`${root}/all`, `${root}/shard-1`, `${root}/shard-2`);
    const stderr = out.stderr;
    const results = JSON.parse(await Deno.readTextFile(`${root}/all/results.json`));
    const cells = Object.fromEntries(
      results.comparison.cells.map((c: { key: string; ours: unknown }) => [c.key, c.ours]),
    );
    assert.deepEqual(cells["shifted/crltac/head/integrated"].values, { 0: 0.5, 1: 0.51 });
    assert.equal(cells["shifted/simclr/uniformity"].n, 2);
    assert.equal(results.runs.length, 6);
    // The shards ran elsewhere: the time shown is the runs' own (2 s each), summed, not a wall clock.
    assert.deepEqual(results.time, { ms: 6 * 2000, kind: "summed" });
    assert.match(
      await Deno.readTextFile(`${root}/all/REPORT.md`),
      /Training, evaluation and landscapes summed over the runs 12s\./,
    );
    // The made-up numbers are not the fixture's: the merged study fails its checks.
    assert.equal(out.code, 1, stderr);
    assert.deepEqual([...Deno.readDirSync(root)].map((e) => e.name).sort(), ["all", "shard-1", "shard-2"]);
    const again = await merge(`${root}/all`, `${root}/shard-1`);
    assert.equal(again.code, 1, again.stderr);
    assert.match(again.stderr, new RegExp(`^replacing the merged study folder ${root}/all, which this package wrote`));
    assert.equal(JSON.parse(await Deno.readTextFile(`${root}/all/results.json`)).runs.length, 3);
  }));

Deno.test("a merge that fails writes nothing: every shard is checked before the first copy", (t) =>
  inTempDir(async (root) => {
    const runs = studyRuns([0, 1]).filter((r) => r.data === "shifted");
    for (const [k, r] of runs.entries()) await fakeRun(`${root}/shard-${(k % 2) + 1}`, r.data, r.method, r.seed);
    await fakeRun(`${root}/medium`, "original", "simclr", 0);
    const summary = `${root}/medium/original-simclr-seed0/summary.json`;
    const medium = JSON.parse(await Deno.readTextFile(summary));
    await Deno.writeTextFile(summary, JSON.stringify({ ...medium, config: { ...medium.config, profile: "medium" } }));
    await fakeRun(`${root}/corrupt`, "original", "crltac", 0);
    await Deno.writeTextFile(`${root}/corrupt/original-crltac-seed0/summary.json`, '{"config":');
    await fakeRun(`${root}/bad-eval`, "original", "crltac", 1);
    await Deno.writeTextFile(`${root}/bad-eval/original-crltac-seed1/eval.json`, '{"probes":5}');
    await Deno.mkdir(`${root}/full/x`, { recursive: true });
    await Deno.mkdir(`${root}/empty`);
    await Deno.writeTextFile(`${root}/file.txt`, "mine");
    const cases: [string, string[], RegExp][] = [
      ["a shard given twice", ["shard-1", "shard-1"], /^error: Run \S+ appears in more than one shard: /],
      ["mixed profiles", ["shard-1", "medium"], /^error: The shards mix profiles: smoke, medium$/],
      ["a corrupt summary.json", ["shard-1", "corrupt"], /^error: Cannot read \S+\/summary\.json: /],
      [
        "a shard without a finished run among others",
        ["shard-1", "empty"],
        /^error: Cannot merge the shard folder \S+\/empty: it holds no finished run$/,
      ],
      [
        "a shard that is a file",
        ["shard-1", "file.txt"],
        /^error: Cannot read the shard folder \S+\/file\.txt: it is a file$/,
      ],
      [
        "an eval.json of another shape",
        ["shard-1", "bad-eval"],
        /^error: \S+\/eval\.json: data must be a string, missing$/,
      ],
    ];
    for (const [name, shards, first] of cases) {
      await t.step(name, async () => {
        const r = await merge(`${root}/out`, ...shards.map((s) => `${root}/${s}`));
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr.split("\n")[0]!, first);
        assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
        assert.deepEqual(
          [...Deno.readDirSync(root)].map((e) => e.name).filter((n) => n.startsWith("out")),
          [],
          "no output folder, staged or not",
        );
      });
    }
    await t.step("an --out that holds something else, or is a file: kept as it was", async () => {
      const r = await merge(`${root}/full`, `${root}/shard-1`);
      assert.equal(r.code, 2);
      assert.equal(
        r.stderr,
        `error: Cannot write the merged study folder ${root}/full: it holds x and is not a merged study folder of ` +
          "this package (choose a new or empty folder)\n",
      );
      assert.deepEqual([...Deno.readDirSync(`${root}/full`)].map((e) => e.name), ["x"]);
      const file = await merge(`${root}/file.txt`, `${root}/shard-1`);
      assert.equal(file.code, 2);
      assert.equal(file.stderr, `error: Cannot write the merged study folder ${root}/file.txt: it is a file\n`);
      assert.equal(await Deno.readTextFile(`${root}/file.txt`), "mine");
    });
  }));
