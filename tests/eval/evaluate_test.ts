import assert from "node:assert/strict";
import { useBackend } from "../../src/backend.ts";
import { UserError } from "../../src/cli.ts";
import type { EvalConfig, Method } from "../../src/config.ts";
import { type EvalResult, evaluateRun, snapshotEvalPath } from "../../src/eval/evaluate.ts";
import { exists } from "../../src/files.ts";
import { tf } from "../../src/tf.ts";
import { saveSnapshot } from "../../src/train/run_snapshot.ts";
import { train } from "../../src/train/trainer.ts";
import { tinyRun } from "../helpers.ts";
import { inTempDir } from "../temp_dirs.ts";

await useBackend("wasm");

const SIZES: EvalConfig = { probeTrainSize: 64, probeTestSize: 32, uniformityPairs: 50, landscapeImages: 16 };

/** A tiny run of `method` (8 iterations) trained in `dir`, with snapshots after `snapshots`. */
async function trained(dir: string, method: Method, snapshots: number[]): Promise<void> {
  await train(tinyRun(method), { dir, progress: false, snapshots });
}

/** What an evaluation measured: its result without the timings and the snapshot's iteration. */
function measured(r: EvalResult) {
  const { ms: _ms, peakRssBytes: _rss, snapshot: _at, probes, ...rest } = r;
  return {
    ...rest,
    probes: Object.fromEntries(Object.entries(probes).map(([k, { ms: _fit, ...p }]) => [k, p])),
  };
}

async function rejection(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
  } catch (e) {
    assert.ok(e instanceof UserError, String(e));
    return e.message;
  }
  return "no error";
}

Deno.test("evaluateRun() at the last snapshot measures what the final weights' evaluation does, and writes beside the snapshot", () =>
  inTempDir(async (dir) => {
    await trained(dir, "oracle", [1, 8]);
    const options = { eval: SIZES, progress: false };
    const before = tf.memory().numTensors;
    const final = await evaluateRun(dir, options);
    const last = await evaluateRun(dir, { ...options, at: 8 });
    const first = await evaluateRun(dir, { ...options, at: 1 });
    assert.equal(tf.memory().numTensors, before);
    assert.equal(final.snapshot, undefined);
    assert.equal(last.snapshot, 8);
    assert.deepEqual(measured(last), measured(final));
    // The first snapshot is another encoder; the final evaluation's file is left as it was.
    assert.notEqual(first.weightsSha256, final.weightsSha256);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/eval.json`)), final);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(snapshotEvalPath(dir, 8))), last);
    assert.equal(snapshotEvalPath(dir, 1), `${dir}/snapshots/step-000001.eval.json`);
  }));

Deno.test("evaluateRun() at a snapshot refuses an iteration without one, and CRL-TAC's, in one line", () =>
  inTempDir(async (dir) => {
    const at = (step: number) => rejection(() => evaluateRun(dir, { eval: SIZES, progress: false, at: step }));
    assert.equal(await at(8), `Cannot evaluate ${dir} at iteration 8: it has no snapshots`);
    const snapshot = (method: Method, step: number) =>
      saveSnapshot(dir, { config: tinyRun(method), step, encoder: [], policyProbs: null });
    await snapshot("simclr", 1);
    await snapshot("simclr", 8);
    assert.equal(await at(3), `Cannot evaluate ${dir} at iteration 3: its snapshots are after iterations 1, 8`);
    await snapshot("crltac", 8);
    assert.equal(
      await at(8),
      `Cannot evaluate ${dir} at iteration 8: a CRL-TAC snapshot keeps P(t|x) of the landscape's images, not P's network (only the finished run can be evaluated)`,
    );
    assert.equal(await exists(snapshotEvalPath(dir, 8)), false);
  }));
