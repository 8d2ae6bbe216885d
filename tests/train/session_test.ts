import assert from "node:assert/strict";
import { useBackend } from "../../src/backend.ts";
import { loadDataset, takeFirst } from "../../src/data/dataset.ts";
import { tf } from "../../src/tf.ts";
import {
  createSession,
  DivergenceError,
  policyPhase,
  type Session,
  type SessionStep,
  type StepRecord,
  takesPolicyStep,
} from "../../src/train/session.ts";
import { train } from "../../src/train/trainer.ts";
import { weightsHash } from "../../src/train/run_folder.ts";
import { tinyRun } from "../helpers.ts";
import { inTempDir } from "../temp_dirs.ts";

await useBackend("wasm");
const images = takeFirst(await loadDataset("shifted", "train"), 32);
const testImages = takeFirst(await loadDataset("shifted", "test"), 2);

/** Runs `session` to its end (or `steps` iterations) and returns what each iteration gave. */
async function iterate(session: Session, steps = Infinity): Promise<SessionStep[]> {
  const out: SessionStep[] = [];
  while (!session.done && out.length < steps) out.push(await session.iterate());
  return out;
}

/** Runs `f` on a new session, disposed afterwards. */
async function withSession<T>(session: Session, f: (session: Session) => Promise<T>): Promise<T> {
  try {
    return await f(session);
  } finally {
    session.dispose();
  }
}

const withoutTime = (records: readonly StepRecord[]) => records.map((r) => ({ ...r, ms: 0 }));

Deno.test("a session stepped by hand computes what train() logs, to the same weights", () =>
  inTempDir(async (dir) => {
    const config = tinyRun("crltac");
    const logged: StepRecord[] = [];
    const summary = await train(config, { dir, progress: false, onStep: (r) => logged.push(r) });
    await withSession(createSession(config, images), async (session) => {
      const steps = await iterate(session);
      assert.deepEqual(withoutTime(steps.map((s) => s.record)), withoutTime(logged));
      assert.deepEqual([session.step, session.epoch, session.done], [8, 2, true]);
      assert.equal(weightsHash(await session.checkpoint(), images), summary.weightsSha256);
    });
  }));

Deno.test("a session restored from a mid-run checkpoint continues as one never stopped", async () => {
  const config = tinyRun("crltac", 3);
  const whole = await withSession(createSession(config, images), async (s) => ({
    steps: await iterate(s),
    checkpoint: await s.checkpoint(),
  }));
  const first = await withSession(createSession(config, images), async (s) => ({
    steps: await iterate(s, 4),
    checkpoint: await s.checkpoint(),
  }));
  await withSession(createSession(config, images, { saved: first.checkpoint }), async (rest) => {
    assert.deepEqual([rest.step, rest.epoch], [4, 1]);
    const after = await iterate(rest);
    assert.deepEqual(
      withoutTime([...first.steps, ...after].map((s) => s.record)),
      withoutTime(whole.steps.map((s) => s.record)),
    );
    assert.deepEqual(await rest.checkpoint(), { ...whole.checkpoint, elapsedMs: rest.elapsedMs });
  });
});

Deno.test("a session reads P(t|x) of the snapshot images after the steps asked for, and only for a learned P", async () => {
  const snapshots = { images: testImages, at: (step: number) => step % 2 === 0 };
  const steps = await withSession(createSession(tinyRun("crltac", 1), images, { snapshots }), iterate);
  assert.deepEqual(steps.map((s) => s.snapshot?.step ?? null), [null, 2, null, 4]);
  for (const { snapshot } of steps.filter((s) => s.snapshot)) {
    assert.deepEqual(snapshot!.images, [0, 1]);
    assert.equal(snapshot!.probs.length, 2 * 289);
    const total = snapshot!.probs.slice(0, 289).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(total - 1) < 1e-3, `P sums to ${total}`);
  }
  const uniform = await withSession(createSession(tinyRun("simclr", 1), images, { snapshots }), iterate);
  assert.ok(uniform.every((s) => s.snapshot === null));
});

Deno.test("a session frees every tensor when disposed, also mid-epoch or after it diverged", async () => {
  const before = tf.memory().numTensors;
  const midEpoch = createSession(tinyRun("crltac"), images, { snapshots: { images: testImages, at: () => true } });
  await iterate(midEpoch, 2);
  midEpoch.dispose();
  assert.equal(tf.memory().numTensors, before);
  // A step size of 1e30 blows the weights up on the first update: the next loss is not finite.
  const diverging = createSession({ ...tinyRun("simclr"), lr: 1e30 }, images);
  await assert.rejects(
    iterate(diverging),
    (e) => e instanceof DivergenceError && /^Loss became \S+ at step \d \(epoch 1, iteration \d\)$/.test(e.message),
  );
  await assert.rejects(diverging.iterate(), /Cannot continue a session after an error/);
  diverging.dispose();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("a finished session refuses another iteration", async () => {
  await withSession(
    createSession({ ...tinyRun("simclr", 1), trainSize: 16 }, takeFirst(images, 16)),
    async (session) => {
      await iterate(session);
      assert.equal(session.step, 2);
      await assert.rejects(session.iterate(), /Cannot go past the session's 1 epochs/);
    },
  );
});

Deno.test("policyPhase(): uniform crops in the warm-up, then sampled P-steps, then the run's estimator", () => {
  const config = {
    ...tinyRun("crltac", 1),
    policyEstimator: "exact-numerator" as const,
    warmup: 2,
    policySampledSteps: 5,
  };
  assert.deepEqual(
    Array.from({ length: 7 }, (_, step) => policyPhase(config, step)),
    ["uniform", "uniform", "sampled", "sampled", "sampled", "exact-numerator", "exact-numerator"],
  );
  assert.equal(policyPhase(tinyRun("crltac", 1), 0), "sampled");
  assert.equal(policyPhase({ ...tinyRun("simclr", 1), warmup: 0 }, 9), "uniform");
  assert.equal(policyPhase({ ...tinyRun("oracle", 1), warmup: 2 }, 0), "oracle");
});

Deno.test("takesPolicyStep(): a P-step after every policyEvery-th iteration, none in the warm-up or for SimCLR", () => {
  const steps = (config: Parameters<typeof takesPolicyStep>[0]) =>
    Array.from({ length: 8 }, (_, step) => takesPolicyStep(config, step));
  assert.deepEqual(steps(tinyRun("crltac", 1)), Array(8).fill(true));
  assert.deepEqual(steps({ ...tinyRun("crltac", 1), policyEvery: 3 }), [
    false,
    false,
    true,
    false,
    false,
    true,
    false,
    false,
  ]);
  assert.deepEqual(steps({ ...tinyRun("crltac", 1), policyEvery: 2, warmup: 4 }), [
    false,
    false,
    false,
    false,
    false,
    true,
    false,
    true,
  ]);
  assert.deepEqual(steps({ ...tinyRun("simclr", 1), policyEvery: 1 }), Array(8).fill(false));
  assert.deepEqual(steps(tinyRun("oracle", 1)), Array(8).fill(false));
});
