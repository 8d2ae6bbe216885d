import assert from "node:assert/strict";
import { useBackend } from "../../src/backend.ts";
import { UserError } from "../../src/cli.ts";
import { type Method, resolveConfig } from "../../src/config.ts";
import {
  beatsFor,
  bestByLambda,
  curvePath,
  intersect,
  landscapeCurve,
  landscapeOfRun,
  landscapePath,
  type LandscapeRow,
  snapshotLandscapeCurves,
  wholeDigitCrossing,
} from "../../src/eval/landscape.ts";
import { listSnapshots, loadSnapshot, saveSnapshot, snapshotPath } from "../../src/train/run_snapshot.ts";
import { tf } from "../../src/tf.ts";
import { train } from "../../src/train/trainer.ts";
import { inTempDir } from "../temp_dirs.ts";

await useBackend("wasm");

/** Trains a tiny run of `method` in `dir`, with run snapshots after the iterations `snapshots`. */
async function trainTinyRun(dir: string, method: Method, epochs = 1, snapshots: number[] = []): Promise<void> {
  const config = resolveConfig("smoke", "shifted", method, 4, {
    trainSize: 32,
    batch: 8,
    crops: 4,
    policyCrops: 4,
    epochs,
    backend: "wasm",
  });
  await train(config, { dir, progress: false, snapshots });
}

const row = (name: string, rows: readonly LandscapeRow[]) => rows.find((r) => r.name === name)!;

Deno.test("landscapeOfRun() evaluates the run's P, its argmax and the fixed distributions, and writes landscape.json", () =>
  inTempDir(async (dir) => {
    await trainTinyRun(dir, "crltac");
    const before = tf.memory().numTensors;
    const r = await landscapeOfRun(dir, { images: 16, progress: false });
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(
      r.rows.map((x) => x.name),
      "run argmax uniform wholeDigit centre nonEmpty partial empty".split(" "),
    );
    assert.equal(r.images, 16);
    assert.equal(r.batch, 8);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/landscape.json`)), r);
    for (const x of r.rows) assert.ok(Math.abs(x.score - (x.objective + r.lambda * x.entropy)) < 1e-12, x.name);
    assert.deepEqual(r.best, bestByLambda(r.rows));
    // One crop per image: no entropy, and an objective of at most β (its numerator is its own term).
    for (const name of ["argmax", "centre", "partial", "empty"]) {
      assert.equal(row(name, r.rows).entropy, 0);
      assert.ok(row(name, r.rows).objective <= r.beta + 1e-6);
    }
    assert.ok(Math.abs(row("uniform", r.rows).entropy - Math.log(289)) < 1e-5);
    assert.ok(Math.abs(row("wholeDigit", r.rows).entropy - Math.log(9)) < 1e-5);
    assert.ok(Math.abs(row("wholeDigit", r.rows).wholeDigitMass - 1) < 1e-6);
    assert.equal(row("empty", r.rows).concentration, 0);
    // Empty crops all embed alike: one per image tells no image from another, (2) is 0.
    assert.ok(Math.abs(row("empty", r.rows).objective) < 1e-3, `${row("empty", r.rows).objective}`);
    await assert.rejects(landscapeOfRun(dir, { images: 33, progress: false }), /the run trained on 32/);
  }));

Deno.test("landscapeOfRun() takes SimCLR's P as uniform and the oracle's as the whole-digit crops", async () => {
  for (const [method, same] of [["simclr", "uniform"], ["oracle", "wholeDigit"]] as const) {
    await inTempDir(async (dir) => {
      await trainTinyRun(dir, method);
      const r = await landscapeOfRun(dir, { images: 16, progress: false });
      assert.ok(!r.rows.some((x) => x.name === "argmax"), method);
      assert.deepEqual({ ...row("run", r.rows), name: same }, row(same, r.rows));
    });
  }
});

Deno.test("wholeDigitCrossing() gives the λ from which the whole-digit crops score higher", () => {
  const at = (objective: number, entropy: number) => ({ objective, entropy }) as LandscapeRow;
  // The run's P concentrated and higher in I: whole digits win once λ pays for their entropy.
  const c = wholeDigitCrossing(at(0.3, 0.2), at(0.1, Math.log(9)));
  assert.equal(c.relation, "above");
  assert.ok(Math.abs(c.lambda! - 0.2 / (Math.log(9) - 0.2)) < 1e-12);
  assert.deepEqual(wholeDigitCrossing(at(0.1, 0.2), at(0.3, 2)), { relation: "always", lambda: null });
  // Against a uniform P: whole digits win only while λ is small.
  assert.equal(wholeDigitCrossing(at(0.01, 5.67), at(0.05, 2.2)).relation, "below");
  assert.deepEqual(wholeDigitCrossing(at(0.3, 5), at(0.1, 2)), { relation: "never", lambda: null });
});

Deno.test("bestByLambda() gives the pieces of the upper envelope of the lines I + λH", () => {
  const at = (name: LandscapeRow["name"], objective: number, entropy: number) =>
    ({ name, objective, entropy }) as LandscapeRow;
  // One crop (I 0.45, H 0), the whole digit (0.12, ln 9), uniform (0.002, ln 289): the whole digit
  // would beat the one crop from λ = 0.33 / 2.197 = 0.150, but uniform overtakes the one crop
  // first, at λ = 0.448 / 5.666 = 0.0791, so the whole digit is never highest.
  const rows = [at("partial", 0.45, 0), at("wholeDigit", 0.12, 2.197), at("uniform", 0.002, 5.666)];
  const best = bestByLambda(rows);
  assert.deepEqual(best.map((b) => b.name), ["partial", "uniform"]);
  assert.ok(Math.abs(best[0]!.to! - 0.448 / 5.666) < 1e-12 && best[1]!.to === null);
  // With a whole digit closer to the one crop, it gets a range of its own in between.
  const middle = bestByLambda([at("partial", 0.45, 0), at("wholeDigit", 0.44, 2.197), at("uniform", 0.002, 5.666)]);
  assert.deepEqual(middle.map((b) => b.name), ["partial", "wholeDigit", "uniform"]);
  assert.ok(Math.abs(middle[1]!.from - 0.01 / 2.197) < 1e-12);
  assert.deepEqual(bestByLambda([at("uniform", 0, 5)]), [{ name: "uniform", from: 0, to: null }]);
});

Deno.test("landscapeCurve() follows the landscape along the run's snapshots, its last entry the final weights' landscape", async () => {
  for (const method of ["crltac", "oracle"] as const) {
    await inTempDir(async (dir) => {
      await trainTinyRun(dir, method, 2, [1, 3, 8]);
      assert.deepEqual(await listSnapshots(dir), [1, 3, 8]);
      const options = { images: 16, progress: false };
      const before = tf.memory().numTensors;
      const final = await landscapeOfRun(dir, options);
      const curve = (await landscapeCurve(dir, options))!;
      assert.equal(tf.memory().numTensors, before);
      assert.deepEqual(curve.entries.map((e) => e.iteration), [1, 3, 8]);
      assert.deepEqual(curve.entries.at(-1)!.rows, final.rows, method);
      assert.equal(typeof final.gapStdErr, "number", "2 batches of 8: a spread");
      assert.equal(curve.entries.at(-1)!.gapStdErr, final.gapStdErr);
      assert.deepEqual(JSON.parse(await Deno.readTextFile(curvePath(dir))), curve);
      for (const e of curve.entries) {
        assert.equal(e.gap, row("centre", e.rows).objective - row("wholeDigit", e.rows).objective);
        assert.deepEqual(
          e.window,
          intersect(
            beatsFor(row("wholeDigit", e.rows), row("centre", e.rows)),
            beatsFor(row("wholeDigit", e.rows), row("uniform", e.rows)),
          ),
        );
      }
      // One snapshot's landscape alone, written beside it: the curve's entry, and the final weights' at the last.
      for (const at of [3, 8]) {
        const one = await landscapeOfRun(dir, { ...options, at });
        const entry = curve.entries.find((e) => e.iteration === at)!;
        assert.deepEqual([one.snapshot, one.rows, one.gapStdErr], [at, entry.rows, entry.gapStdErr]);
        assert.equal(one.weightsSha256, entry.encoderSha256);
        assert.deepEqual(JSON.parse(await Deno.readTextFile(landscapePath(dir, at))), one);
      }
      assert.equal(landscapePath(dir, 8), `${dir}/snapshots/step-000008.landscape.json`);
      // The snapshots measured alone, as a curve: the same entries as the curve's.
      const { entries: _, ...header } = curve;
      assert.deepEqual(await snapshotLandscapeCurves(dir), [{
        ...header,
        entries: curve.entries.filter((e) => e.iteration !== 1),
      }]);
      assert.deepEqual(await snapshotLandscapeCurves(`${dir}/snapshots/none`), []);
      assert.equal(tf.memory().numTensors, before);
      await assert.rejects(
        landscapeOfRun(dir, { ...options, at: 2 }),
        new UserError(
          `Cannot compute the landscape of ${dir} at iteration 2: its snapshots are after iterations 1, 3, 8`,
        ),
      );
      if (method === "crltac") {
        // A snapshot that kept P(t|x) of fewer images than asked.
        const s = await loadSnapshot(snapshotPath(dir, 8));
        const t = s.policyProbs!.probs.length / s.policyProbs!.images;
        await saveSnapshot(dir, {
          ...s,
          step: 9,
          policyProbs: { images: 8, probs: s.policyProbs!.probs.slice(0, 8 * t) },
        });
        await assert.rejects(
          landscapeOfRun(dir, { ...options, at: 9 }),
          new RangeError(
            `Cannot compute the landscape on 16 images: ${snapshotPath(dir, 9)} holds P(t|x) of the first 8`,
          ),
        );
        await Deno.remove(snapshotPath(dir, 9));
      }
      // The training moved the encoder: each snapshot has its own landscape.
      assert.notDeepEqual(curve.entries[0]!.rows, curve.entries[2]!.rows);
      // Entries of unchanged snapshots are kept: a damaged one would show if it were read again.
      const kept = { ...curve, entries: curve.entries.map((e) => ({ ...e, gap: -1 })) };
      await Deno.writeTextFile(curvePath(dir), JSON.stringify(kept));
      assert.deepEqual((await landscapeCurve(dir, options))!.entries.map((e) => e.gap), [-1, -1, -1]);
      // A snapshot removed: its entry stays.
      await Deno.remove(snapshotPath(dir, 3));
      assert.deepEqual((await landscapeCurve(dir, options))!.entries.map((e) => [e.iteration, e.gap]), [[1, -1], [
        3,
        -1,
      ], [8, -1]]);
      // Entries written before the gap's standard error are computed again where they can be.
      const older = { ...kept, entries: kept.entries.map(({ gapStdErr: _, ...e }) => e) };
      await Deno.writeTextFile(curvePath(dir), JSON.stringify(older));
      const redone = (await landscapeCurve(dir, options))!.entries;
      assert.deepEqual(redone.map((e) => [e.iteration, e.gap === -1, typeof e.gapStdErr]), [
        [1, false, "number"],
        [3, true, "undefined"],
        [8, false, "number"],
      ]);
      // Another batch is another landscape, computed again, but not at the cost of an entry whose
      // snapshot is gone: refused, the curve left as it was.
      const held = await Deno.readTextFile(curvePath(dir));
      await assert.rejects(
        landscapeCurve(dir, { ...options, batch: 4 }),
        new UserError(
          `Cannot compute the curve of ${dir} on 16 images in batches of 4: ${
            curvePath(dir)
          } holds one on 16 in batches of 8 whose snapshots at 3 are gone, and it would lose them (pass --images 16 --batch 8 to extend it, or move it away)`,
        ),
      );
      assert.equal(await Deno.readTextFile(curvePath(dir)), held);
      await Deno.remove(curvePath(dir));
      const other = (await landscapeCurve(dir, { ...options, batch: 4 }))!;
      assert.equal(other.batch, 4);
      assert.ok(other.entries.every((e) => e.gap !== -1));
      // Its 4 batches' own gaps, from the curves of the first 4, 8, 12 and 16 images (each gap the
      // mean of its batches'): their spread over √4 is the standard error.
      const firsts = [];
      for (const images of [4, 8, 12, 16]) firsts.push((await landscapeCurve(dir, { ...options, images, batch: 4 }))!);
      assert.ok(firsts[0]!.entries.every((e) => e.gapStdErr === null), "one batch: no spread");
      for (const [k, e] of other.entries.entries()) {
        const means = firsts.map((c) => c.entries[k]!.gap);
        const gaps = means.map((m, b) => (b + 1) * m - b * (means[b - 1] ?? 0));
        const mean = gaps.reduce((a, g) => a + g) / gaps.length;
        const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / (gaps.length - 1));
        assert.ok(sd > 0 && Math.abs(e.gapStdErr! - sd / 2) < 1e-9 * sd, `${e.gapStdErr} against ${sd / 2}`);
      }
    });
  }
});

Deno.test("beatsFor() and intersect() give the λ ranges in which one distribution scores higher", () => {
  const r = (objective: number, entropy: number): LandscapeRow => ({
    name: "uniform",
    objective,
    entropy,
    score: 0,
    concentration: 0,
    wholeDigitMass: 0,
  });
  const whole = r(0.4, Math.log(9)), centre = r(0.41, 0), uniform = r(0.1, Math.log(289));
  const overCentre = beatsFor(whole, centre)!;
  assert.ok(Math.abs(overCentre.from - 0.01 / Math.log(9)) < 1e-12 && overCentre.to === null);
  const overUniform = beatsFor(whole, uniform)!;
  assert.ok(overUniform.from === 0 && Math.abs(overUniform.to! - 0.3 / Math.log(289 / 9)) < 1e-12);
  assert.deepEqual(intersect(overCentre, overUniform), { from: overCentre.from, to: overUniform.to });
  // A centre crop too far ahead: the window closes before it opens.
  assert.equal(intersect(beatsFor(whole, r(0.9, 0)), overUniform), null);
  assert.deepEqual(beatsFor(centre, whole), { from: 0, to: overCentre.from });
  assert.equal(beatsFor(r(0, 1), r(1, 1)), null);
  assert.deepEqual(beatsFor(r(1, 1), r(0, 1)), { from: 0, to: null });
});
