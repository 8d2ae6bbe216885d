import assert from "node:assert/strict";
import { UserError } from "../../src/cli.ts";
import { exists, MARKER, openFolder } from "../../src/files.ts";
import { lockFolder } from "../../src/lock.ts";
import { runName, type RunSpec } from "../../src/study/plan.ts";
import { childEnv, runStudy, STUDY_FOLDER, studyConfig, type StudyOptions } from "../../src/study/runner.ts";
import { saveEmptyCheckpoint } from "../helpers.ts";
import { inTempDir } from "../temp_dirs.ts";
import { RUN_FOLDER } from "../../src/train/run_folder.ts";

Deno.test("study processes keep Mesa's shader cache in the study folder unless the user chose one", async () => {
  const out = await Deno.makeTempDir();
  try {
    const env = childEnv(out, null);
    assert.equal(env.MESA_SHADER_CACHE_DIR, `${Deno.realPathSync(out)}/.mesa-shader-cache`);
    assert.equal(env.NO_COLOR, "1");
    assert.equal(childEnv(out, "/var/cache/mesa").MESA_SHADER_CACHE_DIR, "/var/cache/mesa");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

function study(out: string, runs: RunSpec[]): StudyOptions {
  return { profile: "smoke", out, runs, jobs: 1, backend: "auto", saveFeatures: false, raw: false, log: () => {} };
}

Deno.test("runStudy() refuses a plan that names a run twice, before writing anything", () =>
  inTempDir(async (dir) => {
    const out = `${dir}/study`;
    const run: RunSpec = { data: "shifted", method: "simclr", seed: 0 };
    await assert.rejects(
      runStudy(study(out, [run, { ...run }])),
      (e: unknown) =>
        e instanceof UserError &&
        e.message === "The plan names run shifted-simclr-seed0 twice: one folder cannot hold two runs",
    );
    assert.equal(await exists(out), false);
  }));

Deno.test("runStudy() refuses run folders of another config, finished or not, naming the fields", () =>
  inTempDir(async (out) => {
    const finished: RunSpec = { data: "shifted", method: "simclr", seed: 0 };
    const unfinished: RunSpec = { data: "original", method: "simclr", seed: 1 };
    for (const r of [finished, unfinished]) await Deno.mkdir(`${out}/${runName(r)}`);
    // The backend may differ (a run may resume elsewhere); the epochs and λ may not.
    const summaryConfig = { ...studyConfig("smoke", finished, "auto"), epochs: 2, backend: "cpu" };
    const summary = {
      config: summaryConfig,
      backend: { backend: "cpu" },
      epochs: 2,
      steps: 64,
      trainMs: 1000,
      final: {},
      weightsSha256: "ab".repeat(32),
    };
    await Deno.writeTextFile(`${out}/${runName(finished)}/summary.json`, JSON.stringify(summary));
    const config = { ...studyConfig("smoke", unfinished, "auto"), lambda: 0.5 };
    await saveEmptyCheckpoint(`${out}/${runName(unfinished)}/checkpoint.bin`, config);
    await assert.rejects(
      runStudy(study(out, [finished, unfinished])),
      (e: unknown) =>
        e instanceof UserError &&
        e.message ===
          `These run folders hold runs of another config: ${out}/shifted-simclr-seed0 (epochs 2 (not 1)); ` +
            `${out}/original-simclr-seed1 (lambda 0.5 (not 0.0025)). Move them away or choose another --out`,
    );
    assert.equal(await exists(`${out}/.lock`), false, "the lock is released");
  }));

Deno.test("runStudy() removes what an interrupted write left in the study folder, and releases its lock", () =>
  inTempDir(async (out) => {
    await openFolder(out, STUDY_FOLDER);
    await Deno.writeTextFile(`${out}/results.json.tmp-77`, "{");
    const lines: string[] = [];
    await runStudy({ ...study(out, []), log: (l) => lines.push(l) });
    assert.deepEqual([...Deno.readDirSync(out)].map((e) => e.name), [MARKER]);
    assert.deepEqual(lines, [`removed results.json.tmp-77 from ${out}, left by an interrupted write`]);
  }));

Deno.test("runStudy() refuses a study folder another study holds, naming it", () =>
  inTempDir(async (out) => {
    await openFolder(out, STUDY_FOLDER);
    const other = await lockFolder(out, "study folder");
    try {
      await assert.rejects(
        runStudy(study(out, [{ data: "shifted", method: "simclr", seed: 0 }])),
        (e: unknown) => e instanceof UserError && e.message.startsWith(`${out} is in use by process ${Deno.pid} on `),
      );
      assert.deepEqual([...Deno.readDirSync(out)].map((e) => e.name).sort(), [MARKER, ".lock"], "nothing written");
    } finally {
      other.release();
    }
  }));

Deno.test("runStudy() refuses runs another process still writes (a child its killed parent left), naming it", () =>
  inTempDir(async (out) => {
    const run: RunSpec = { data: "shifted", method: "simclr", seed: 0 };
    await openFolder(`${out}/${runName(run)}`, RUN_FOLDER);
    const child = await lockFolder(`${out}/${runName(run)}`, "run folder");
    try {
      await assert.rejects(
        runStudy(study(out, [run])),
        (e: unknown) =>
          e instanceof UserError &&
          e.message.startsWith(
            `Runs of this study are being written by other processes: ${out}/shifted-simclr-seed0 (process ${Deno.pid} on `,
          ),
      );
    } finally {
      child.release();
    }
  }));

Deno.test("runStudy() takes a study folder written before markers by a run's checkpoint, and refuses anything else", (t) =>
  inTempDir(async (root) => {
    const run: RunSpec = { data: "shifted", method: "simclr", seed: 0 };
    const refusal = (dir: string, why: string) => (e: unknown) =>
      e instanceof UserError && e.message === `Cannot write the study folder ${dir}: ${why}`;
    await t.step("a sweep's folder, its run's checkpoint two levels down", async () => {
      const out = `${root}/sweep`;
      await Deno.mkdir(`${out}/variant/${runName(run)}`, { recursive: true });
      await saveEmptyCheckpoint(`${out}/variant/${runName(run)}/checkpoint.bin`, studyConfig("smoke", run, "auto"));
      await runStudy(study(out, []));
      assert.deepEqual(JSON.parse(await Deno.readTextFile(`${out}/${MARKER}`)), { package: "crl-tac", kind: "study" });
    });
    await t.step("a folder of the user's, left as it was", async () => {
      const out = `${root}/thesis`;
      await Deno.mkdir(`${out}/${runName(run)}`, { recursive: true });
      await Deno.writeTextFile(`${out}/thesis.tex`, "mine");
      await assert.rejects(
        runStudy(study(out, [run])),
        refusal(
          out,
          `it holds ${runName(run)} and thesis.tex and is not a study folder of this package ` +
            "(choose a new or empty folder)",
        ),
      );
      assert.deepEqual([...Deno.readDirSync(out)].map((e) => e.name).sort(), [runName(run), "thesis.tex"]);
    });
  }));
