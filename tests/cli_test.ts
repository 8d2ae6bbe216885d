import assert from "node:assert/strict";

import { probeAdapter } from "../src/backend.ts";
import { choice, int, list, parseCli, UsageError } from "../src/cli.ts";
import { CONFIG_FIELDS, FIELD_KEYS, METHODS, PROFILE_NAMES } from "../src/config.ts";
import { runDeno, scriptPath } from "./subprocess.ts";

const run = (name: string, args: string[]) => runDeno(["run", "--allow-all", scriptPath(name), ...args]);

const TRAIN = ["--profile", "smoke", "--data", "shifted", "--method", "crltac", "--seed", "0", "--out", "/tmp/x"];

/** Each case: the command line, and the first line of stderr it must print (then exit 2). */
const USAGE_ERRORS: [string, string[], string][] = [
  ["train", [...TRAIN, "--epoch", "3"], "error: unknown option --epoch (did you mean --epochs?)"],
  ["train", TRAIN.slice(0, 8), "error: missing --out"],
  ["train", ["--profile", "huge", "--data", "shifted"], "error: --profile huge: must be one of smoke, medium, paper"],
  ["train", ["--profile", "smoke", "--seed", "-1"], "error: --seed -1: a seed must be an integer ≥ 0"],
  ["train", [...TRAIN, "--batch", "1"], "error: --batch 1: must be an integer ≥ 2"],
  ["train", [...TRAIN, "--epochs", "2.5"], "error: --epochs 2.5: must be an integer in 1..10000"],
  ["train", [...TRAIN, "--epochs", "1e12"], "error: --epochs 1000000000000: must be an integer in 1..10000"],
  ["train", [...TRAIN, "--batch", "4096"], "error: --batch 4096: must not exceed trainSize (2048)"],
  ["train", [...TRAIN, "--lr", "fast"], "error: --lr fast: must be a number"],
  [
    "train",
    [...TRAIN, "--policy-estimator", "all"],
    "error: --policy-estimator all: must be one of sampled, exact, hybrid",
  ],
  ["train", [...TRAIN, "--resume=yes"], "error: --resume=yes: --resume is a switch and takes no value"],
  ["train", [...TRAIN, "--out"], "error: --out needs a value"],
  ["train", [...TRAIN, "extra"], 'error: unexpected argument "extra": this command takes only options'],
  ["dataset", [], "error: give exactly one of --hash and --out"],
  [
    "evaluate",
    ["--run", "/nonexistent/run"],
    "error: --run /nonexistent/run: it holds no checkpoint.bin (train the run first)",
  ],
  ["evaluate", ["--raw", "shifted"], "error: missing --profile (--raw probes at a profile's sizes)"],
  ["reproduce", ["--profile", "nope"], "error: --profile nope: must be one of smoke, medium, paper"],
  [
    "reproduce",
    ["--only", "cifar", "--profile", "nope"],
    'error: --only cifar: cannot read filter "cifar": no dataset "cifar" (shifted, original)',
  ],
  [
    "reproduce",
    ["--profile", "smoke", "--shard", "3/2"],
    'error: --shard 3/2: cannot read shard "3/2": expected i/n with 1 ≤ i ≤ n',
  ],
  ["reproduce", ["--profile", "smoke", "--seeds", "0,x"], "error: --seeds x: a seed must be an integer ≥ 0"],
  ["reproduce", ["--profile", "smoke", "--jobs", "0"], "error: --jobs 0: must be an integer ≥ 1"],
  ["merge", ["--out", "/tmp/x"], "error: name at least one shard folder after --out DIR"],
  ["sweep", ["--grid", "pstep", "--only", "nothing"], "error: --only nothing: no such variant in pstep"],
  ["bench", ["--images", "1000"], "error: --images 1000: must be at most 256"],
  ["bundle", ["nope"], "error: nope: no such script to bundle (choose from bench, train, evaluate, dataset)"],
];

Deno.test("a bad command line prints one error line and a pointer to --help, and exits 2", async (t) => {
  for (const [name, args, first] of USAGE_ERRORS) {
    await t.step(`${name} ${args.join(" ")}`, async () => {
      const r = await run(name, args);
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.trimEnd().split("\n");
      assert.ok(lines[0]!.startsWith(first), `first line: ${lines[0]}`);
      assert.deepEqual(lines.slice(1), ["For more information, try '--help'."]);
      assert.equal(r.stdout, "");
    });
  }
});

Deno.test("reproduce checks its arguments before probing the GPU, and the probe prints no driver noise", async () => {
  // Without XDG_RUNTIME_DIR, Mesa's WebGPU probe printed "XDG_RUNTIME_DIR is invalid or not set"
  // twice before anything else.
  const bad = await run("reproduce", ["--profile", "nope"]);
  assert.match(bad.stderr.split("\n")[0]!, /^error: --profile nope/);
  const gpu = await probeAdapter();
  if (gpu && !gpu.fallback) return; // a real GPU runs the paper profile by default
  const r = await run("reproduce", []);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr.split("\n")[0]!,
    /^No real GPU adapter here: the paper profile \(20 runs\) would take about \S+/,
  );
  assert.doesNotMatch(r.stderr, /XDG_RUNTIME_DIR/);
  assert.match(r.stderr, /--profile smoke/);
});

Deno.test("--help prints the usage and exits 0", async () => {
  for (const name of ["train", "evaluate", "dataset", "reproduce", "merge", "sweep", "bench", "bundle", "landscape"]) {
    const r = await run(name, ["--help"]);
    assert.equal(r.code, 0, name);
    assert.match(r.stdout, /^Usage: deno task/, name);
  }
});

Deno.test("--help names every profile, method and config field, so it cannot drift from the config", async () => {
  const help = Object.fromEntries(
    await Promise.all(
      ["train", "reproduce", "evaluate"].map(async (name) => [name, (await run(name, ["--help"])).stdout]),
    ),
  );
  for (const profile of PROFILE_NAMES) {
    for (const name of ["train", "reproduce", "evaluate"]) {
      assert.match(help[name], new RegExp(`\\b${profile}\\b`), name);
    }
  }
  for (const method of METHODS) assert.match(help.train, new RegExp(`\\b${method}\\b`));
  for (const key of FIELD_KEYS) {
    const { flag, value } = CONFIG_FIELDS[key];
    assert.match(help.train, new RegExp(`  --${value.kind === "switch" ? "\\[no-\\]" : ""}${flag}\\b`), key);
  }
});

Deno.test("parseCli() reads values in every spelling and checks them in the order given", () => {
  const specs = {
    seed: { type: "string", parse: int(0, "a seed"), required: true },
    tag: { type: "string", multiple: true },
    mode: { type: "string", parse: choice(["a", "b"] as const) },
    seeds: { type: "string", parse: list(int(0)) },
    fast: { type: "boolean" },
  } as const;
  const { values } = parseCli(["--seed", "3", "--tag=x", "--tag", "y", "--no-fast", "--seeds", "1, 2"], specs);
  assert.deepEqual(values, { seed: 3, tag: ["x", "y"], fast: false, seeds: [1, 2] });
  assert.equal(parseCli(["--seed=-0"], specs).values.seed, 0);
  const first = (args: string[]) => {
    try {
      parseCli(args, specs);
    } catch (e) {
      assert.ok(e instanceof UsageError);
      return e.message;
    }
    return "no error";
  };
  // The first bad argument as written, before any missing one.
  assert.equal(first(["--mode", "c", "--seed", "-2"]), "--mode c: must be one of a, b");
  assert.equal(first(["--seed", "-2", "--mode", "c"]), "--seed -2: a seed must be an integer ≥ 0");
  assert.equal(first(["--mode", "a"]), "missing --seed");
  assert.equal(first(["--seed", "1", "--seed", "2"]), "--seed 2: --seed was already given");
  assert.equal(first(["--sed", "1"]), "unknown option --sed (did you mean --seed?)");
  assert.equal(first(["-x"]), "unknown option -x");
});
