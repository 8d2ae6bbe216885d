import assert from "node:assert/strict";
import { useBackend } from "../../src/backend.ts";
import { type Method, resolveConfig } from "../../src/config.ts";
import { bestByLambda, landscapeOfRun, type LandscapeRow, wholeDigitCrossing } from "../../src/eval/landscape.ts";
import { tf } from "../../src/tf.ts";
import { train } from "../../src/train/trainer.ts";

await useBackend("wasm");

/** A tiny trained run of `method` in a temporary folder. */
async function tinyRun(method: Method): Promise<string> {
  const dir = await Deno.makeTempDir();
  const config = resolveConfig("smoke", "shifted", method, 4, {
    trainSize: 32,
    batch: 8,
    crops: 4,
    policyCrops: 4,
    epochs: 1,
    backend: "wasm",
  });
  await train(config, { dir, progress: false });
  return dir;
}

const row = (name: string, rows: readonly LandscapeRow[]) => rows.find((r) => r.name === name)!;

Deno.test("landscapeOfRun() evaluates the run's P, its argmax and the fixed distributions, and writes landscape.json", async () => {
  const dir = await tinyRun("crltac");
  try {
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
    assert.ok(Math.abs(row("wholeDigit", r.rows).oracleMass - 1) < 1e-6);
    assert.equal(row("empty", r.rows).nonEmptyMass, 0);
    // Empty crops all embed alike: one per image tells no image from another, (2) is 0.
    assert.ok(Math.abs(row("empty", r.rows).objective) < 1e-3, `${row("empty", r.rows).objective}`);
    await assert.rejects(landscapeOfRun(dir, { images: 33, progress: false }), /the run trained on 32/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("landscapeOfRun() takes SimCLR's P as uniform and the oracle's as the whole-digit crops", async () => {
  for (const [method, same] of [["simclr", "uniform"], ["oracle", "wholeDigit"]] as const) {
    const dir = await tinyRun(method);
    try {
      const r = await landscapeOfRun(dir, { images: 16, progress: false });
      assert.ok(!r.rows.some((x) => x.name === "argmax"), method);
      assert.deepEqual({ ...row("run", r.rows), name: same }, row(same, r.rows));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
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
