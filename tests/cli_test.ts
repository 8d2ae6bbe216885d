import assert from "node:assert/strict";

import { runDeno, scriptPath } from "./subprocess.ts";

const run = (name: string, args: string[]) => runDeno(["run", "--allow-all", scriptPath(name), ...args]);

Deno.test("every command rejects bad command lines with exit code 2 and says why", async (t) => {
  const cases: [string, string[], RegExp][] = [
    ["train", [
      "--profile",
      "smoke",
      "--data",
      "shifted",
      "--method",
      "crltac",
      "--seed",
      "0",
      "--out",
      "/tmp/x",
      "--epoch",
      "3",
    ], /Unknown option '--epoch'/],
    ["train", ["--profile", "smoke", "--data", "shifted", "--method", "crltac", "--seed", "0"], /Missing --out/],
    [
      "train",
      ["--profile", "huge", "--data", "shifted", "--method", "crltac", "--seed", "0", "--out", "/tmp/x"],
      /--profile must be one of smoke, paper/,
    ],
    ["train", [
      "--profile",
      "smoke",
      "--data",
      "shifted",
      "--method",
      "crltac",
      "--seed",
      "0",
      "--out",
      "/tmp/x",
      "--batch",
      "1",
    ], /batch = 1/],
    ["train", [
      "--profile",
      "smoke",
      "--data",
      "shifted",
      "--method",
      "crltac",
      "--seed",
      "0",
      "--out",
      "/tmp/x",
      "--lr",
      "fast",
    ], /--lr must be a number/],
    ["dataset", [], /exactly one of --hash and --out/],
    ["evaluate", ["--run", "/nonexistent/run"], /holds no checkpoint\.bin/],
    ["reproduce", ["--profile", "smoke", "--only", "cifar"], /no dataset "cifar"/],
    ["reproduce", ["--profile", "smoke", "--shard", "3/2"], /Cannot read shard "3\/2"/],
    ["merge", ["--out", "/tmp/x"], /at least one shard folder/],
  ];
  for (const [name, args, message] of cases) {
    await t.step(`${name} ${args.join(" ")}`, async () => {
      const r = await run(name, args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /Usage: deno task/);
    });
  }
});

Deno.test("reproduce without a GPU prints the paper profile's estimated time and asks for smoke or --yes", async () => {
  const gpu = await (navigator as { gpu?: GPU }).gpu?.requestAdapter().catch(() => null);
  if (gpu && !gpu.info.isFallbackAdapter) return; // a real GPU runs the paper profile by default
  const r = await run("reproduce", []);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /the paper profile \(16 runs\) would take about \S+ on this machine's CPU/);
  assert.match(r.stderr, /--profile smoke/);
});

Deno.test("--help prints the usage and exits 0", async () => {
  for (const name of ["train", "evaluate", "dataset", "reproduce", "merge"]) {
    const r = await run(name, ["--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: deno task/);
  }
});
