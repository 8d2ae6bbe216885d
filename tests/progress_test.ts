import assert from "node:assert/strict";
import { formatDuration, Progress } from "../src/progress.ts";

Deno.test("formatDuration() picks units a reader can scan", () => {
  assert.equal(formatDuration(42.4), "42s");
  assert.equal(formatDuration(185), "3m05s");
  assert.equal(formatDuration(3720), "1h02m");
  assert.equal(formatDuration(86400 * 3 + 3600 * 4), "3d04h");
  assert.equal(formatDuration(Number.NaN), "?");
});

Deno.test("Progress prints rate and ETA, at most once per interval when not on a terminal", () => {
  let now = 0;
  const lines: string[] = [];
  const p = new Progress("train", 100, "it", 0, {
    write: (t) => lines.push(t),
    inPlace: false,
    intervalMs: 10_000,
    now: () => now,
  });
  now = 1000;
  p.update(2, "loss 1.0");
  now = 5000;
  p.update(10);
  now = 12_000;
  p.update(24);
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^train ░{20} 2\/100 2\.0 it\/s ETA 49s loss 1\.0\n$/);
  assert.match(lines[1]!, /24\/100 2\.0 it\/s ETA 38s/);
  now = 20_000;
  p.update(100);
  assert.match(lines.at(-1)!, /100\/100 .* ETA 0s/);
});

Deno.test("Progress leaves the steps done before a resume out of the rate", () => {
  let now = 0;
  const lines: string[] = [];
  const p = new Progress("x", 100, "it", 50, { write: (t) => lines.push(t), inPlace: false, now: () => now });
  now = 10_000;
  p.update(60);
  assert.match(lines[0]!, /60\/100 1\.0 it\/s ETA 40s/);
});
