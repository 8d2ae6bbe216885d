import assert from "node:assert/strict";
import { resolveConfig } from "../../src/config.ts";
import { useBackend } from "../../src/backend.ts";
import { tf } from "../../src/tf.ts";
import { type PolicySnapshot, SNAPSHOT_IMAGES, type StepRecord } from "../../src/train/session.ts";
import { snapshotSteps, train } from "../../src/train/trainer.ts";
import { loadCheckpoint } from "../../src/train/checkpoint.ts";
import { listSnapshots, snapshotPath } from "../../src/train/run_snapshot.ts";
import { usingStockKernels } from "../../src/kernels/ops.ts";
import { encoderSpecs } from "../../src/model/encoder.ts";
import { initialValues } from "../../src/model/params.ts";
import { policySpecs } from "../../src/model/policy.ts";
import { Prng } from "../../src/data/prng.ts";
import { assertClose, tinyRun } from "../helpers.ts";
import { inTempDir, inTempDirs } from "../temp_dirs.ts";

await useBackend("wasm");

const TRAIN = new URL("../../scripts/train.ts", import.meta.url).pathname;
const tinyArgs = (out: string) => [
  "run",
  "--allow-all",
  TRAIN,
  "--profile",
  "smoke",
  "--data",
  "shifted",
  "--method",
  "crltac",
  "--seed",
  "3",
  "--train-size",
  "32",
  "--batch",
  "8",
  "--crops",
  "4",
  "--policy-crops",
  "4",
  "--epochs",
  "3",
  "--backend",
  "wasm",
  "--snapshots",
  "2,6,12",
  "--out",
  out,
];

Deno.test("train() reads back from the backend once per iteration, twice for an epoch's first", async () => {
  const engine = tf.engine();
  const read = engine.read;
  let reads = 0;
  engine.read = (dataId) => {
    reads++;
    return read.call(engine, dataId);
  };
  await inTempDir(async (dir) => {
    const perStep: number[] = [];
    await train(tinyRun("crltac"), {
      dir,
      progress: false,
      onStep: () => {
        perStep.push(reads);
        reads = 0;
      },
    });
    // Between an epoch's last step and the next one's first: the checkpoint's reads too.
    assert.deepEqual([perStep[0], ...perStep.slice(1, 4), ...perStep.slice(5)], [2, 1, 1, 1, 1, 1, 1]);
  }).finally(() => engine.read = read);
});

Deno.test("train() keeps the tensor count flat across steps and frees everything at the end", async () => {
  await inTempDir(async (dir) => {
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const records: StepRecord[] = [];
    const summary = await train(tinyRun("crltac"), {
      dir,
      progress: false,
      onStep: (r) => {
        counts.push(tf.memory().numTensors);
        records.push(r);
      },
    });
    assert.equal(summary.steps, 8);
    assert.equal(records.length, 8);
    // The same counts in both epochs (nothing accumulates); within one, the next batch's images
    // and P(T|X)'s forward pass on them (its logits and five saved activations, one pass) are
    // alive except after its last iteration.
    const nextBatch = 1 + 1 + 5;
    assert.deepEqual(counts.slice(0, 4), counts.slice(4), `tensor counts per step: ${counts}`);
    assert.deepEqual(
      counts.slice(0, 4).map((c) => c - counts[3]!),
      [nextBatch, nextBatch, nextBatch, 0],
      `tensor counts per step: ${counts}`,
    );
    assert.equal(tf.memory().numTensors, before);
    for (const r of records) {
      assert.ok(Number.isFinite(r.hLoss) && Number.isFinite(r.pLoss!));
      assert.ok(r.entropy > 0 && r.entropy <= Math.log(289) + 1e-6);
    }
  });
});

Deno.test("train() refuses to overwrite a run and to resume a different config", async () => {
  await inTempDir(async (dir) => {
    await train(tinyRun("simclr", 1), { dir, progress: false });
    await assert.rejects(train(tinyRun("simclr", 1), { dir, progress: false }), /pass --resume/);
    const other = { ...tinyRun("simclr", 1), lr: 0.5 };
    await assert.rejects(train(other, { dir, progress: false, resume: true }), /Cannot resume/);
  });
});

Deno.test("train() with tfjs's stock kernels follows the fast paths' run, and refuses wasm", async () => {
  // Original MNIST keeps the stock cpu kernels quick; two iterations, so that the second one's
  // losses follow an Adam step on each path's gradients.
  const config = resolveConfig("smoke", "original", "crltac", 3, {
    trainSize: 4,
    batch: 2,
    crops: 2,
    policyCrops: 2,
    epochs: 1,
    backend: "cpu",
  });
  await inTempDirs(2, async (dirs) => {
    const records: StepRecord[][] = [[], []];
    const summaries = [];
    for (const [i, stockKernels] of [false, true].entries()) {
      const onStep = (r: StepRecord) => records[i]!.push(r);
      summaries.push(await train(config, { dir: dirs[i]!, progress: false, stockKernels, onStep }));
    }
    assert.deepEqual(summaries.map((s) => s.kernels), ["fast", "stock"]);
    assert.equal(usingStockKernels(), false, "the stock kernels are switched off again");
    const [fast, stock] = records.map((r) => r[1]!);
    for (const key of ["hLoss", "pLoss", "entropy"] as const) assertClose([stock![key]!], [fast![key]!], 1e-4, key);
    await assert.rejects(
      train({ ...config, backend: "wasm" }, { dir: `${dirs[0]}/wasm`, progress: false, stockKernels: true }),
      /cannot train on wasm/,
    );
  });
  await useBackend("wasm");
});

Deno.test("a run killed mid-epoch, or stopped by Ctrl-C, and resumed ends with the same weights as one never stopped", async (t) => {
  await inTempDirs(3, async ([whole, ...stopped]) => {
    const run = (args: string[]) => new Deno.Command(Deno.execPath(), { args, stdout: "null", stderr: "piped" });
    const full = await run(tinyArgs(whole)).output();
    assert.ok(full.success, new TextDecoder().decode(full.stderr));
    const perEpoch = 4;
    for (const [i, signal] of (["SIGKILL", "SIGINT"] as const).entries()) {
      await t.step(signal, async () => {
        const killed = stopped[i]!;
        const lines = async () =>
          (await Deno.readTextFile(`${killed}/log.jsonl`).catch(() => "")).split("\n").filter((l) => l);
        const child = run(tinyArgs(killed)).spawn();
        // Wait until epoch 2 is under way (one checkpoint written, steps of the next epoch logged).
        while ((await lines()).length < perEpoch + 1) await new Promise((r) => setTimeout(r, 50));
        child.kill(signal);
        const status = await child.status;
        const stderr = await new Response(child.stderr).text();
        const saved = await loadCheckpoint(`${killed}/checkpoint.bin`);
        assert.ok(saved && saved.epoch >= 1 && saved.epoch < 3, `stopped after epoch ${saved?.epoch}`);
        if (signal === "SIGINT") {
          // Ctrl-C: the iteration under way is finished and checkpointed, part-way through an epoch.
          assert.equal(status.code, 130, stderr);
          assert.match(stderr, /stopped after iteration \d+ of 12; .*checkpoint\.bin holds it: continue with --resume/);
          assert.equal(saved.step, (await lines()).length);
          assert.equal(saved.epochStart?.iterations ?? 0, saved.step % perEpoch);
        }
        const resumed = await run([...tinyArgs(killed), "--resume"]).output();
        assert.ok(resumed.success, new TextDecoder().decode(resumed.stderr));
        const a = JSON.parse(await Deno.readTextFile(`${whole}/summary.json`));
        const b = JSON.parse(await Deno.readTextFile(`${killed}/summary.json`));
        assert.equal(b.weightsSha256, a.weightsSha256);
        const logA = await Deno.readTextFile(`${whole}/log.jsonl`);
        const logB = await Deno.readTextFile(`${killed}/log.jsonl`);
        const strip = (log: string) => log.split("\n").filter((l) => l).map((l) => ({ ...JSON.parse(l), ms: 0 }));
        assert.deepEqual(strip(logB), strip(logA));
        const snapshots = (dir: string) => Deno.readTextFile(`${dir}/policy-snapshots.jsonl`);
        assert.equal(await snapshots(killed), await snapshots(whole));
        // Run snapshots too, the one of the replayed epoch written again: the same bytes.
        assert.deepEqual(await listSnapshots(killed), [2, 6, 12]);
        for (const step of [2, 6, 12]) {
          const [x, y] = await Promise.all([whole, killed].map((dir) => Deno.readFile(snapshotPath(dir, step))));
          assert.deepEqual(y, x, `snapshot ${step}`);
        }
      });
    }
  });
});

Deno.test("a diverging run stops with the step and the last good checkpoint", async () => {
  await inTempDir(async (dir) => {
    // A step size of 1e30 blows the weights up on the first update: the next loss is not finite.
    const config = { ...tinyRun("simclr", 2), lr: 1e30 };
    await assert.rejects(
      train(config, { dir, progress: false }),
      (e) =>
        e instanceof Error && e.name === "DivergenceError" && /at step \d+ \(epoch \d, iteration \d\)/.test(e.message),
    );
  });
});

Deno.test("snapshotSteps() records P early, half-way and at the end, each step once", () => {
  assert.deepEqual(snapshotSteps(768), [48, 192, 384, 768]);
  assert.deepEqual(snapshotSteps(8), [1, 2, 4, 8]);
  assert.deepEqual(snapshotSteps(2), [1, 2]);
});

Deno.test("train() with the sampled P-step moves P(T|X) off the uniform distribution, towards the digit", async () => {
  await inTempDir(async (dir) => {
    const records: StepRecord[] = [];
    const config = { ...tinyRun("crltac", 4), trainSize: 64, batch: 16 };
    await train(config, { dir, progress: false, onStep: (r) => records.push(r) });
    assert.equal(records.length, 16);
    // P(t|x) on each iteration's batch: at the start, close to uniform (ln 289 = 5.67 nats, 0.16 of
    // the mass on crops with ink); over the last four iterations, measured on wasm: entropy 5.20,
    // mass 0.24.
    const first = records[0]!, last = records.slice(-4);
    const mean = (f: (r: StepRecord) => number) => last.reduce((s, r) => s + f(r), 0) / last.length;
    assert.ok(first.entropy > 5.6 && first.concentration < 0.2, JSON.stringify(first));
    assert.ok(mean((r) => r.entropy) < first.entropy - 0.2, `entropy ${mean((r) => r.entropy)}`);
    assert.ok(mean((r) => r.concentration) > first.concentration + 0.05, `mass ${mean((r) => r.concentration)}`);
  });
});

Deno.test("train() with a warm-up, sampled P-steps, then exact-own ones: P is used and trained after the warm-up; memory stays flat", async () => {
  await inTempDir(async (dir) => {
    // Iterations 0–1 uniform, 2 a sampled P-step, 3 an exact-own one.
    const config = {
      ...tinyRun("crltac", 1),
      policyEstimator: "exact-own" as const,
      policySelf: true,
      warmup: 2,
      policySampledSteps: 3,
    };
    const before = tf.memory().numTensors;
    const records: StepRecord[] = [];
    const counts: number[] = [];
    await train(config, {
      dir,
      progress: false,
      onStep: (r) => {
        records.push(r);
        counts.push(tf.memory().numTensors);
      },
    });
    assert.equal(tf.memory().numTensors, before);
    assert.equal(counts[1], counts[2], `tensor counts per step: ${counts}`);
    // Warm-up: SimCLR's iterations, P(t|x) uniform and no P-step.
    for (const r of records.slice(0, 2)) {
      assert.equal(r.pLoss, null);
      assert.ok(Math.abs(r.entropy - Math.log(289)) < 1e-6, `entropy ${r.entropy}`);
    }
    for (const r of records.slice(2)) assert.ok(Number.isFinite(r.pLoss!));
    // Both P-steps changed P(T|X)'s weights.
    // The run's initial weights: the encoder's, then P(T|X)'s, from the seed's "init" stream.
    const init = Prng.fromSeed(config.seed, "init");
    initialValues(encoderSpecs(config.headDim), init);
    const initial = initialValues(policySpecs(84, 289), init);
    const trained = (await loadCheckpoint(`${dir}/checkpoint.bin`))!.policy!;
    assert.ok(trained.some((w, i) => w.some((v, j) => v !== initial[i]![j])), "P(T|X) was trained");
    const lines = (await Deno.readTextFile(`${dir}/policy-snapshots.jsonl`)).trim().split("\n");
    const snapshots = lines.map((l) => JSON.parse(l) as PolicySnapshot);
    assert.deepEqual(snapshots.map((s) => s.step), snapshotSteps(4));
    for (const s of snapshots) {
      assert.equal(s.probs.length, SNAPSHOT_IMAGES * 289);
      for (let k = 0; k < SNAPSHOT_IMAGES; k++) {
        const total = s.probs.slice(k * 289, (k + 1) * 289).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(total - 1) < 1e-3, `step ${s.step} image ${k}: P sums to ${total}`);
      }
    }
  });
});

Deno.test("train() of the oracle ablation samples only whole-digit crops, takes no P-step and saves no P(T|X)", async () => {
  await inTempDir(async (dir) => {
    const records: StepRecord[] = [];
    const before = tf.memory().numTensors;
    const summary = await train(tinyRun("oracle", 1), { dir, progress: false, onStep: (r) => records.push(r) });
    assert.equal(records.length, 4);
    for (const r of records) {
      // P's statistics on the batch: all mass on the 9 whole-digit crops, entropy ln 9.
      assert.ok(Math.abs(r.wholeDigitMass - 1) < 1e-6 && Math.abs(r.entropy - Math.log(9)) < 1e-5, JSON.stringify(r));
      assert.equal(r.pLoss, null);
    }
    assert.equal(summary.config.method, "oracle");
    assert.equal((await loadCheckpoint(`${dir}/checkpoint.bin`))!.policy, null);
    assert.equal(tf.memory().numTensors, before);
  });
});

Deno.test("train() with policyEvery 2: a P-step (and its logged loss) only after every second h-step", async () => {
  await inTempDir(async (dir) => {
    const records: StepRecord[] = [];
    await train({ ...tinyRun("crltac", 1), policyEvery: 2 }, { dir, progress: false, onStep: (r) => records.push(r) });
    assert.deepEqual(records.map((r) => r.pLoss !== null), [false, true, false, true]);
    for (const r of records.filter((r) => r.pLoss !== null)) assert.ok(Number.isFinite(r.pLoss!));
  });
});
