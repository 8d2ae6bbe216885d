import assert from "node:assert/strict";
import { UserError } from "../../src/cli.ts";
import { CHECKPOINT_MAGIC, rewriteFloatFileHeader } from "../../src/train/checkpoint.ts";
import { train } from "../../src/train/trainer.ts";
import { upgradeFolder, upgradeValue } from "../../src/study/upgrade.ts";
import { saveEmptyCheckpoint, tinyRun } from "../helpers.ts";
import { inTempDir } from "../temp_dirs.ts";

Deno.test("upgradeValue() renames the fields and estimators of 2026-12-07 and completes old configs in place", () => {
  const old = {
    config: { profile: "smoke", data: "shifted", method: "crltac", seed: 0, beta: 0.5, warmup: 0, lr: 0.001 },
    final: { nonEmptyMass: 0.9, oracleMass: 0.2 },
    variants: [{ variant: { name: "exact", overrides: { policyEstimator: "hybrid" } } }],
  };
  const now = upgradeValue(old) as typeof old & { config: Record<string, unknown> };
  // The missing fields after their neighbours in the config's order; the keys it had stay where they were.
  assert.deepEqual(Object.keys(now.config), [
    "profile",
    "data",
    "method",
    "seed",
    "policyEstimator",
    "policySelf",
    "beta",
    "warmup",
    "policySampledSteps",
    "policyEvery",
    "lr",
  ]);
  assert.deepEqual([now.config.policyEstimator, now.config.policySelf, now.config.policyEvery], ["sampled", false, 1]);
  assert.deepEqual(now.final, { concentration: 0.9, wholeDigitMass: 0.2 });
  // An estimator is renamed; a variant's name, which is its folder's, is not.
  assert.deepEqual(now.variants, [{ variant: { name: "exact", overrides: { policyEstimator: "exact-numerator" } } }]);
  assert.deepEqual(upgradeValue(now), now);
});

/** `path`'s text with `f` applied. */
async function edit(path: string, f: (text: string) => string): Promise<void> {
  await Deno.writeTextFile(path, f(await Deno.readTextFile(path)));
}

Deno.test("upgradeFolder() brings a run folder of the older formats back to the bytes written today, and then leaves it", () =>
  inTempDir(async (dir) => {
    await train(tinyRun("crltac", 1), { dir, progress: false });
    const names = ["summary.json", "log.jsonl", "checkpoint.bin"];
    const today = await Promise.all(names.map((n) => Deno.readFile(`${dir}/${n}`)));
    // As an earlier version wrote them: the old names, no P-step fields, no checksum.
    const older = (text: string) =>
      text.replaceAll('"concentration"', '"nonEmptyMass"').replaceAll('"wholeDigitMass"', '"oracleMass"');
    await edit(`${dir}/log.jsonl`, older);
    await edit(`${dir}/summary.json`, (t) => older(t).replace(/\n *"policySampledSteps": 0,\n *"policyEvery": 1,/, ""));
    const checkpoint = await Deno.readFile(`${dir}/checkpoint.bin`);
    const stripped = rewriteFloatFileHeader(checkpoint, CHECKPOINT_MAGIC, (fields) => {
      const { policySampledSteps: _s, policyEvery: _e, ...config } = fields.config as Record<string, unknown>;
      return { ...fields, config };
    }, (why) => new Error(why));
    const length = new DataView(stripped.buffer).getUint32(8, true);
    const header = JSON.parse(new TextDecoder().decode(stripped.subarray(12, 12 + length)));
    delete header.payloadSha256;
    const json = new TextEncoder().encode(JSON.stringify(header).padEnd(length, " "));
    stripped.set(json, 12);
    await Deno.writeFile(`${dir}/checkpoint.bin`, stripped);
    const summary = await Deno.readTextFile(`${dir}/summary.json`);
    assert.ok(!summary.includes("policyEvery") && summary.includes("nonEmptyMass"), summary);
    assert.notDeepEqual(stripped, today[2]);

    const { rewritten, runs } = await upgradeFolder(dir);
    assert.equal(runs, 1);
    assert.deepEqual(rewritten.sort(), names.map((n) => `${dir}/${n}`).sort());
    for (const [i, n] of names.entries()) assert.deepEqual(await Deno.readFile(`${dir}/${n}`), today[i], n);
    assert.deepEqual((await upgradeFolder(dir)).rewritten, []);
  }));

Deno.test("upgradeFolder() refuses a folder that is not this package's, writing nothing", () =>
  inTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/summary.json`, '{"nonEmptyMass": 1}\n');
    await assert.rejects(
      upgradeFolder(dir),
      (e: Error) => e instanceof UserError && /not a run or study folder/.test(e.message),
    );
    assert.equal(await Deno.readTextFile(`${dir}/summary.json`), '{"nonEmptyMass": 1}\n');
  }));

Deno.test("a folder taken for a study because it holds runs has its runs upgraded, not its own files", () =>
  inTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/run`);
    await saveEmptyCheckpoint(`${dir}/run/checkpoint.bin`, tinyRun("simclr"));
    await Deno.writeTextFile(`${dir}/run/log.jsonl`, '{"step":1,"nonEmptyMass":1}\n');
    await Deno.writeTextFile(`${dir}/summary.json`, '{"nonEmptyMass": 1}\n');
    assert.deepEqual((await upgradeFolder(dir)).rewritten, [`${dir}/run/log.jsonl`]);
    assert.equal(await Deno.readTextFile(`${dir}/run/log.jsonl`), '{"step":1,"concentration":1}\n');
    assert.equal(await Deno.readTextFile(`${dir}/summary.json`), '{"nonEmptyMass": 1}\n');
  }));
