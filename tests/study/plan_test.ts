import assert from "node:assert/strict";
import { filterRuns, parseRunName, parseShard, runName, shardRuns, studyRuns } from "../../src/study/plan.ts";

Deno.test("studyRuns() lists dataset × method × seed, the oracle ablation on shifted MNIST only: 20 runs for 4 seeds", () => {
  const runs = studyRuns([0, 1, 2, 3]);
  assert.equal(runs.length, 20);
  assert.equal(new Set(runs.map(runName)).size, 20);
  assert.deepEqual(runs[0], { data: "shifted", method: "crltac", seed: 0 });
  assert.deepEqual(runs.filter((r) => r.method === "oracle").map((r) => r.data), Array(4).fill("shifted"));
});

Deno.test("filterRuns() keeps the matching runs and rejects unknown names", () => {
  const runs = studyRuns([0, 1]);
  assert.equal(filterRuns(runs, "shifted").length, 6);
  assert.equal(filterRuns(runs, "shifted/crltac").length, 2);
  assert.deepEqual(filterRuns(runs, "*/simclr/1").map(runName), ["shifted-simclr-seed1", "original-simclr-seed1"]);
  assert.throws(() => filterRuns(runs, "cifar"), /no dataset "cifar"/);
  assert.throws(() => filterRuns(runs, "shifted/byol"), /no method "byol"/);
  assert.throws(() => filterRuns(runs, "shifted/crltac/x"), /seed "x"/);
  assert.throws(() => filterRuns(runs, "a/b/c/d"), /expected dataset\/method\/seed/);
});

Deno.test("shards partition the study: every run in exactly one shard", () => {
  const runs = studyRuns([0, 1, 2, 3]);
  for (const n of [1, 2, 3, 5, 16]) {
    const all = Array.from({ length: n }, (_, i) => shardRuns(runs, { index: i + 1, count: n })).flat();
    assert.deepEqual(all.map(runName).sort(), runs.map(runName).sort());
  }
  assert.deepEqual(parseShard("2/3"), { index: 2, count: 3 });
  for (const bad of ["0/3", "4/3", "1", "a/b", "1/0"]) assert.throws(() => parseShard(bad), RangeError);
});

Deno.test("parseRunName() inverts runName()", () => {
  for (const r of studyRuns([0, 12])) assert.deepEqual(parseRunName(runName(r)), r);
  assert.equal(parseRunName("raw-shifted.json"), null);
});
