import assert from "node:assert/strict";

import { probeAdapter } from "../src/backend.ts";
import { choice, int, list, parseCli, parseNamed, UsageError } from "../src/cli.ts";
import { CONFIG_FIELDS, FIELD_KEYS, METHODS, PROFILE_NAMES, resolveConfig } from "../src/config.ts";
import { exists } from "../src/files.ts";
import { lockFolder } from "../src/lock.ts";
import { jobsThatFit } from "../src/memory.ts";
import { saveEmptyCheckpoint, thrownMessage } from "./helpers.ts";
import { inTempDir } from "./temp_dirs.ts";
import { runDeno, scriptPath } from "./subprocess.ts";

const run = (name: string, args: string[]) => runDeno(["run", "--allow-all", scriptPath(name), ...args]);

const TRAIN = ["--profile", "smoke", "--data", "shifted", "--method", "crltac", "--seed", "0", "--out", "/tmp/x"];

/** Each case: the command line, and the first line of stderr it must print (then exit 2). */
// A smoke run's command line (32 iterations), into a folder that cannot be made: an error must come first.
const SMOKE_ORACLE = "--profile smoke --data shifted --method oracle --seed 0 --out /nonexistent/x".split(" ");

const USAGE_ERRORS: [string, string[], string][] = [
  ["train", [...TRAIN, "--epoch", "3"], "error: unknown option --epoch (did you mean --epochs?)"],
  ["train", TRAIN.slice(0, 8), "error: missing --out"],
  ["train", ["--profile", "huge", "--data", "shifted"], "error: --profile huge: must be one of smoke, medium, paper"],
  ["train", ["--profile", "smoke", "--seed", "-1"], "error: --seed -1: a seed must be an integer in 0..4294967295"],
  // Past 2^53 the number would be rounded (two seeds, one run); past 2^32 the generator folds it.
  [
    "train",
    ["--seed", "9007199254740993"],
    "error: --seed 9007199254740993: a seed must be an integer in 0..4294967295",
  ],
  ["train", ["--seed", "4294967296"], "error: --seed 4294967296: a seed must be an integer in 0..4294967295"],
  ["train", [...TRAIN.slice(0, 8), "--out", ""], 'error: --out "": must not be empty'],
  ["train", [...TRAIN, "--lambda="], 'error: --lambda "": must not be empty'],
  ["train", [...TRAIN, "--batch", "1"], "error: --batch 1: must be an integer in 2..4096"],
  ["train", [...TRAIN, "--batch", "5000"], "error: --batch 5000: must be an integer in 2..4096"],
  ["train", [...TRAIN, "--epochs", "2.5"], "error: --epochs 2.5: must be an integer in 1..10000"],
  ["train", [...TRAIN, "--epochs", "1e12"], "error: --epochs 1000000000000: must be an integer in 1..10000"],
  ["train", [...TRAIN, "--batch", "4096"], "error: --batch 4096: must not exceed trainSize (2048)"],
  ["train", [...TRAIN, "--lr", "fast"], "error: --lr fast: must be a number"],
  [
    "train",
    [...TRAIN, "--policy-estimator", "all"],
    "error: --policy-estimator all: must be one of sampled, exact-own, exact-numerator",
  ],
  ["train", [...TRAIN, "--resume=yes"], "error: --resume=yes: --resume is a switch and takes no value"],
  ["train", [...TRAIN, "--out"], "error: --out needs a value"],
  ["train", [...TRAIN, "extra"], 'error: unexpected argument "extra": this command takes only options'],
  ["dataset", [], "error: give exactly one of --hash and --out"],
  ["evaluate", ["--raw", "shifted"], "error: missing --profile (--raw probes at a profile's sizes)"],
  // Options that the other mode would silently ignore.
  ["evaluate", ["--run", "/tmp/x", "--out", "/tmp/y.json"], "error: --out applies only with --raw"],
  ["evaluate", ["--run", "/tmp/x", "--profile", "smoke"], "error: --profile applies only with --raw"],
  ["evaluate", ["--raw", "shifted", "--profile", "smoke", "--at", "5"], "error: --at applies only with --run"],
  ["evaluate", ["--run", "/tmp/x", "--at", "0"], "error: --at 0: an iteration must be an integer ≥ 1"],
  [
    "evaluate",
    ["--raw", "shifted", "--profile", "smoke", "--save-features", "/tmp/f"],
    "error: --save-features applies only with --run",
  ],
  ["dataset", ["--hash", "--data", "original"], "error: --data applies only with --out"],
  ["sweep", ["--grid", "pstep", "--table", "--jobs", "2"], "error: --jobs has no effect with --table"],
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
  [
    "reproduce",
    ["--profile", "smoke", "--seeds", "0,x"],
    "error: --seeds x: a seed must be an integer in 0..4294967295",
  ],
  ["reproduce", ["--profile", "smoke", "--seeds", "0,1,0"], "error: --seeds 0,1,0: 0 is given twice"],
  ["reproduce", ["--profile", "smoke", "--jobs", "2.5"], "error: --jobs 2.5: must be an integer ≥ 1"],
  ["reproduce", ["--profile", "smoke", "--jobs", "0"], "error: --jobs 0: must be an integer ≥ 1"],
  ["train", [...SMOKE_ORACLE, "--snapshots", "8,0"], "error: --snapshots 0: an iteration must be an integer ≥ 1"],
  ["train", [...SMOKE_ORACLE, "--snapshots", "33"], "error: --snapshots 33: the run has iterations 1 to 32"],
  ["merge", ["--out", "/tmp/x"], "error: name at least one shard folder after --out DIR"],
  ["sweep", ["--grid", "pstep", "--only", "nothing"], "error: --only nothing: no such variant in pstep"],
  ["bench", ["--images", "1000"], "error: --images 1000: must be at most 256"],
  ["bundle", ["nope"], "error: nope: no such script to bundle (choose from bench, train, evaluate, dataset)"],
  ["upgrade", [], "error: give at least one folder to upgrade"],
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
  for (
    const name of [
      "train",
      "evaluate",
      "dataset",
      "reproduce",
      "merge",
      "sweep",
      "bench",
      "bundle",
      "landscape",
      "upgrade",
    ]
  ) {
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
  const first = (args: string[]) => thrownMessage(() => parseCli(args, specs), UsageError);
  // The first bad argument as written, before any missing one.
  assert.equal(first(["--mode", "c", "--seed", "-2"]), "--mode c: must be one of a, b");
  assert.equal(first(["--seed", "-2", "--mode", "c"]), "--seed -2: a seed must be an integer ≥ 0");
  assert.equal(first(["--mode", "a"]), "missing --seed");
  assert.equal(first(["--seed", "1", "--seed", "2"]), "--seed 2: --seed was already given");
  assert.equal(first(["--sed", "1"]), "unknown option --sed (did you mean --seed?)");
  assert.equal(first(["-x"]), "unknown option -x");
});

Deno.test("parseNamed() reads named texts as parseCli() reads the same options, with its messages", () => {
  const specs = {
    seed: { type: "string", parse: int(0, "a seed"), required: true },
    mode: { type: "string", parse: choice(["a", "b"] as const) },
    fast: { type: "boolean" },
    slow: { type: "boolean" },
  } as const;
  const named = { seed: "3", mode: "b", fast: "", "no-slow": "" };
  const args = ["--seed", "3", "--mode", "b", "--fast", "--no-slow"];
  assert.deepEqual(parseNamed(named, specs).values, parseCli(args, specs).values);
  const message = (texts: Record<string, string>) => thrownMessage(() => parseNamed(texts, specs), UsageError);
  assert.equal(message({ seed: "-2" }), "--seed -2: a seed must be an integer ≥ 0");
  assert.equal(message({ seed: " " }), '--seed " ": must not be empty');
  assert.equal(message({ mode: "a" }), "missing --seed");
  assert.equal(message({ sed: "1" }), "unknown option --sed (did you mean --seed?)");
  assert.equal(message({ seed: "1", fast: "yes" }), "--fast=yes: --fast is a switch and takes no value");
});

/** Runs an entry point whose main throws `error` (a TypeScript expression) and returns its exit code and stderr. */
async function throwing(error: string): Promise<{ code: number; stderr: string }> {
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    const cli = new URL("../src/cli.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { runMain, UserError } from "${cli}";\nawait runMain("Usage: x", () => { throw ${error}; });\n`,
    );
    return await runDeno(["run", "--allow-all", script]);
  } finally {
    await Deno.remove(script);
  }
}

Deno.test("runMain() gives the user's errors one line and exit 2, and keeps the stack of a bug", async (t) => {
  await t.step("a UserError", async () => {
    const r = await throwing(`new UserError("the folder is in use")`);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "error: the folder is in use\n");
  });
  await t.step("a full disk", async () => {
    const r = await throwing(
      `Object.assign(new Error("No space left on device (os error 28): write 'x'"), { code: "ENOSPC" })`,
    );
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "error: Cannot write x: No space left on device\n");
  });
  await t.step("a file where a folder goes", async () => {
    const r = await throwing(
      `Object.assign(new Error("Not a directory (os error 20): mkdir 'a.txt/run'"), { code: "ENOTDIR" })`,
    );
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "error: Cannot create a.txt/run: Not a directory\n");
  });
  await t.step("a TypeError, which is a bug", async () => {
    const r = await throwing(`new TypeError("x is undefined")`);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: TypeError: x is undefined\n\s+at /);
  });
});

Deno.test("train refuses a folder's checkpoint without --resume, evaluate one in use, and a resume names the fields it would change", () =>
  inTempDir(async (dir) => {
    await saveEmptyCheckpoint(`${dir}/checkpoint.bin`, resolveConfig("smoke", "shifted", "crltac", 0), 1);
    const args = [...TRAIN.slice(0, 8), "--out", dir];
    const fresh = await run("train", args);
    assert.equal(fresh.code, 2);
    assert.deepEqual(fresh.stderr.trimEnd().split("\n"), [
      `error: ${dir}/checkpoint.bin exists: pass --resume to continue that run, or choose a new --out`,
      "For more information, try '--help'.",
    ]);
    // A run folder another process holds: evaluate waits its turn rather than read half-trained weights.
    const lock = await lockFolder(dir, "run folder");
    try {
      const busy = await run("evaluate", ["--run", dir]);
      assert.equal(busy.code, 2);
      assert.match(busy.stderr, new RegExp(`^error: ${dir} is in use by process ${Deno.pid} on .*\n$`));
      // A snapshot never changes: evaluating one does not wait (this folder has none to evaluate).
      const snapshot = await run("evaluate", ["--run", dir, "--at", "3"]);
      assert.equal(snapshot.code, 2);
      assert.equal(snapshot.stderr, `error: Cannot evaluate ${dir} at iteration 3: it has no snapshots\n`);
      const landscape = await run("landscape", ["--run", dir, "--at", "3"]);
      assert.equal(landscape.code, 2);
      assert.equal(
        landscape.stderr,
        `error: Cannot compute the landscape of ${dir} at iteration 3: it has no snapshots\n`,
      );
    } finally {
      lock.release();
    }
    const other = await run("train", [...args, "--resume", "--epochs", "2", "--lr", "0.002", "--backend", "cpu"]);
    assert.equal(other.code, 2);
    // The backend may differ; the fields that change the model are named, nothing else.
    assert.equal(
      other.stderr,
      `error: Cannot resume ${dir}/checkpoint.bin: it was trained with epochs 1 (not 2), lr 0.001 (not 0.002)\n`,
    );
  }));

Deno.test("evaluate refuses a run that has not finished training, in one line", () =>
  inTempDir(async (dir) => {
    await saveEmptyCheckpoint(
      `${dir}/checkpoint.bin`,
      resolveConfig("smoke", "shifted", "simclr", 0, { epochs: 3 }),
      1,
    );
    const r = await run("evaluate", ["--run", dir]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `error: Cannot evaluate ${dir}: its training stopped at epoch 1 of 3 (resume it first)\n`);
  }));

Deno.test("landscape refuses to replace a curve whose snapshots are gone, before computing anything", () =>
  inTempDir(async (dir) => {
    const tiny = ["--train-size", "32", "--batch", "8", "--crops", "4", "--epochs", "1", "--backend", "wasm"];
    const trained = await run("train", [...SMOKE_ORACLE.slice(0, 8), ...tiny, "--snapshots", "2,4", "--out", dir]);
    assert.equal(trained.code, 0, trained.stderr);
    const first = await run("landscape", ["--run", dir, "--images", "16"]);
    assert.equal(first.code, 0, first.stderr);
    await Deno.remove(`${dir}/snapshots/step-000002.bin`);
    const held = await Promise.all(
      ["landscape.json", "landscape-curve.json"].map((f) => Deno.readTextFile(`${dir}/${f}`)),
    );
    const other = await run("landscape", ["--run", dir, "--images", "16", "--batch", "4"]);
    assert.equal(other.code, 2);
    assert.match(
      other.stderr,
      /^error: Cannot compute the curve of .* on 16 images in batches of 4: .* holds one on 16 in batches of 8 whose snapshots at 2 are gone/,
    );
    // The final weights' landscape, which comes first in print, was not computed either.
    const now = await Promise.all(
      ["landscape.json", "landscape-curve.json"].map((f) => Deno.readTextFile(`${dir}/${f}`)),
    );
    assert.deepEqual(now, held);
  }));

Deno.test("landscape --at draws the curve's figure again, with the snapshots measured alone beside the curve", () =>
  inTempDir(async (dir) => {
    const tiny = ["--train-size", "32", "--batch", "8", "--crops", "4", "--epochs", "1", "--backend", "wasm"];
    const trained = await run("train", [...SMOKE_ORACLE.slice(0, 8), ...tiny, "--snapshots", "2,4", "--out", dir]);
    assert.equal(trained.code, 0, trained.stderr);
    const alone = "snapshots alone: 32 images, batches of 8";
    // No curve yet: a snapshot's landscape alone draws nothing.
    const before = await run("landscape", ["--run", dir, "--at", "2", "--images", "32"]);
    assert.equal(before.code, 0, before.stderr);
    assert.equal(await exists(`${dir}/landscape-curve.svg`), false);
    const curve = await run("landscape", ["--run", dir, "--images", "16"]);
    assert.equal(curve.code, 0, curve.stderr);
    assert.ok((await Deno.readTextFile(`${dir}/landscape-curve.svg`)).includes(alone), "the earlier one, drawn");
    await Deno.remove(`${dir}/landscape-curve.svg`);
    const at = await run("landscape", ["--run", dir, "--at", "4", "--images", "32"]);
    assert.equal(at.code, 0, at.stderr);
    assert.match(at.stderr, /wrote .*step-000004\.landscape\.json and drew .*landscape-curve\.svg again\n$/);
    const svg = await Deno.readTextFile(`${dir}/landscape-curve.svg`);
    assert.ok(svg.includes("the curve: 16 images, batches of 8") && svg.includes(alone));
  }));

Deno.test("sweep --table refuses a folder that holds none of the grid's runs, without creating it", () =>
  inTempDir(async (dir) => {
    const out = `${dir}/typo`;
    const r = await run("sweep", ["--grid", "pstep", "--table", "--out", out]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trimEnd().split("\n").at(-1), `error: --out ${out}: no run of the pstep grid is there`);
    assert.equal(await exists(out), false);
  }));

Deno.test("jobsThatFit() caps the runs at a time by memory, with a warning", () => {
  assert.deepEqual(jobsThatFit(2, 23e9), { jobs: 2, warning: null });
  const capped = jobsThatFit(100_000, 23e9);
  assert.equal(capped.jobs, 15);
  assert.match(capped.warning!, /^--jobs 100000: .* only 15 fit .* 23 GB .*; running 15 at a time$/);
  assert.equal(jobsThatFit(4, 1e9).jobs, 1);
});

Deno.test("reproduce lowers --jobs to the runs this machine's memory holds, with a warning", async () => {
  const gpu = await probeAdapter();
  if (gpu && !gpu.fallback) return; // the paper profile would start
  const fit = jobsThatFit(100_000).jobs;
  const r = await run("reproduce", ["--profile", "paper", "--jobs", "100000"]);
  assert.equal(r.code, 2);
  const lines = r.stderr.split("\n");
  assert.match(lines[0]!, new RegExp(`^warning: --jobs 100000: .* only ${fit} fit .*; running ${fit} at a time$`));
  assert.match(lines[1]!, new RegExp(`^No real GPU adapter here: .* \\(${fit} at a time\\)\\.$`));
});

Deno.test("--help says where the run snapshots, their evaluations and the landscape curve go", async () => {
  const train = (await run("train", ["--help"])).stdout, landscape = (await run("landscape", ["--help"])).stdout;
  const evaluate = (await run("evaluate", ["--help"])).stdout;
  assert.match(evaluate, /--at ITERATION +evaluate the run's snapshot after ITERATION instead/);
  assert.match(evaluate, /writes DIR\/snapshots\/step-NNNNNN\.eval\.json, no figures/);
  assert.match(train, /--snapshots LIST +iterations after which DIR\/snapshots\/step-N\.bin keeps the encoder/);
  assert.match(
    train,
    /or none \(default: 32, 64, 128, … and\s+the last iteration, for runs of more than 1024 iterations\)/,
  );
  assert.match(landscape, /DIR\/landscape-curve\.json/);
  assert.match(landscape, /its standard error from the spread of the batches' gaps/);
  assert.match(landscape, /DIR\/landscape-curve\.svg/);
  assert.match(landscape, /--at ITERATION +the landscape of the run's snapshot after ITERATION alone/);
  assert.match(landscape, /DIR\/snapshots\/step-NNNNNN\.landscape\.json/);
  assert.match(landscape, /beside the curve's gaps, those of the snapshots measured\s+alone with --at/);
});
