import assert from "node:assert/strict";
import { curveEntry, type LandscapeResult } from "../../src/eval/landscape.ts";
import { curveMarkdown, landscapeMarkdown } from "../../src/report/landscape_report.ts";
import { oracleCurve, oracleRows } from "./landscape_fixtures.ts";

// The oracle's rows: the run's P is the whole-digit crops; the centre crop is 0.0056 above them.
const rows = oracleRows(0.0056);
const result: LandscapeResult = {
  run: "r",
  method: "oracle",
  data: "shifted",
  seed: 0,
  weightsSha256: "x",
  lambda: 0.0025,
  beta: 0.5,
  images: 256,
  batch: 64,
  rows,
  gapStdErr: 0.0008,
  wholeDigit: { relation: "never", lambda: null },
  best: [],
  ms: 1,
};

Deno.test("landscapeMarkdown() gives the gap of the centre crop over the whole digits, ± its standard error where known", () => {
  const from = (0.4804 - 0.4748) / Math.log(9);
  const text = landscapeMarkdown(result);
  assert.ok(
    text.includes(
      "I(centre crop) − I(9 whole-digit crops) = 0.00560 ± 0.00080 nats (± one standard error over its 4 batches): " +
        `the whole-digit crops score higher than the centre crop for λ > ${from.toExponential(2)}.`,
    ),
    text,
  );
  // A landscape.json written before the standard error, or of one batch: the gap alone.
  const { gapStdErr: _, ...older } = result;
  for (const r of [older, { ...result, gapStdErr: null, images: 64 }]) {
    assert.match(
      landscapeMarkdown(r),
      /crops\) = 0\.0056 nats: the whole-digit crops score higher than the centre crop for λ > 2\.55e-3\./,
    );
  }
});

Deno.test("curveMarkdown() gives each snapshot's gap ± its standard error where known, to the error's second digit", () => {
  const entries = [curveEntry(32, "a", rows, 0.0008), curveEntry(64, "b", rows, null)];
  const { gapStdErr: _, ...older } = curveEntry(128, "c", rows, 0.0001);
  const lines = curveMarkdown(oracleCurve([...entries, older, curveEntry(256, "d", rows, 0.0027)])).split(
    "\n",
  );
  assert.ok(lines.some((l) => l.includes("| gap ± s.e. |")));
  assert.deepEqual(lines.slice(-4).map((l) => l.split(" | ")[4]), [
    "0.00560 ± 0.00080",
    "0.0056",
    "0.0056",
    "0.0056 ± 0.0027",
  ]);
});
