import assert from "node:assert/strict";

import { UserError } from "../src/cli.ts";
import { arrayOf, checkShape, fields, nullable, recordOf } from "../src/shape.ts";
import { OWN_FIXTURE_SHAPE } from "../src/study/compare.ts";
import { readJson, readRun } from "../src/study/results.ts";
import { thrownMessage } from "./helpers.ts";
import { inTempDir } from "./temp_dirs.ts";

const message = (f: () => unknown) => thrownMessage(f, UserError);

Deno.test("checkShape() names the file and the first field that breaks the shape", () => {
  const shape = fields({ a: "number", b: recordOf(fields({ c: nullable("string") }), true), d: arrayOf("number") }, [
    "d",
  ]);
  assert.deepEqual(checkShape({ a: 1, b: { x: { c: null } } }, shape, "f.json"), { a: 1, b: { x: { c: null } } });
  assert.equal(message(() => checkShape({ b: {} }, shape, "f.json")), "f.json: a must be a number, missing");
  assert.equal(message(() => checkShape({ a: NaN, b: {} }, shape, "f.json")), "f.json: a must be a number, not null");
  assert.equal(
    message(() => checkShape({ a: 1, b: {} }, shape, "f.json")),
    "f.json: b must be a non-empty object, not {}",
  );
  assert.equal(
    message(() => checkShape({ a: 1, b: { "x/y": { c: 3 } } }, shape, "f.json")),
    'f.json: b."x/y".c must be a string or null, not 3',
  );
  assert.equal(
    message(() => checkShape({ a: 1, b: { x: { c: "s" } }, d: [1, "2"] }, shape, "f.json")),
    'f.json: d[1] must be a number, not "2"',
  );
  assert.equal(message(() => checkShape([], shape, "f.json")), "f.json: the file must be an object, not []");
});

Deno.test("an empty or seedless fixture, and an eval.json of the wrong shape, are errors naming file and field", (t) =>
  inTempDir(async (dir) => {
    const cell = { mean: 0.5, std: 0, n: 1, values: { "0": 0.5 } };
    const fixture = { cells: { "shifted/simclr/uniformity": cell }, profile: "smoke", tolerances: {}, claims: {} };
    const cases: [string, unknown, string][] = [
      ["{}", {}, "cells must be a non-empty object, missing"],
      ["no cells", { ...fixture, cells: {} }, "cells must be a non-empty object, not {}"],
      [
        "a cell without seeds",
        { ...fixture, cells: { "shifted/simclr/uniformity": { ...cell, values: {} } } },
        'cells."shifted/simclr/uniformity".values must be a non-empty object, not {}',
      ],
    ];
    for (const [name, value, error] of cases) {
      await t.step(`fixture: ${name}`, async () => {
        await Deno.writeTextFile(`${dir}/smoke.json`, JSON.stringify(value));
        await assert.rejects(
          readJson(`${dir}/smoke.json`, OWN_FIXTURE_SHAPE),
          (e: unknown) => e instanceof UserError && e.message === `${dir}/smoke.json: ${error}`,
        );
      });
    }
    await t.step('eval.json: {"probes":5}', async () => {
      await Deno.writeTextFile(`${dir}/eval.json`, JSON.stringify({ probes: 5 }));
      await assert.rejects(
        readRun(dir, "shifted-simclr-seed0", { data: "shifted", method: "simclr", seed: 0 }),
        (e: unknown) => e instanceof UserError && e.message === `${dir}/eval.json: data must be a string, missing`,
      );
    });
    await t.step("summary.json cut short", async () => {
      await Deno.remove(`${dir}/eval.json`);
      await Deno.writeTextFile(`${dir}/summary.json`, '{"config": {"prof');
      await assert.rejects(
        readRun(dir, "shifted-simclr-seed0", { data: "shifted", method: "simclr", seed: 0 }),
        (e: unknown) => e instanceof UserError && e.message.startsWith(`Cannot read ${dir}/summary.json: `),
      );
    });
  }));
