/**
 * Faults a user meets: two writers on one run folder, a run killed with -9 at points read from
 * its own log, a full or read-only disk, and damaged files. Each case asserts the exit code, the
 * first line of stderr, and that nothing is left half-written; a resumed run must end with the
 * weights of a run never stopped. Runs are tiny (32 images, 3 epochs of 4 iterations) so that
 * the file stays within CI's time.
 */

import assert from "node:assert/strict";
import { exists, MARKER } from "../src/files.ts";
import { inTempDir } from "./temp_dirs.ts";
import { assertOneErrorLine, denoCommand, outputOf, scriptPath } from "./subprocess.ts";

const TINY = [
  ["--profile", "smoke", "--data", "shifted", "--method", "crltac", "--seed", "3"],
  ["--train-size", "32", "--batch", "8", "--crops", "4", "--policy-crops", "4", "--epochs", "3", "--backend", "wasm"],
].flat();
const STEPS = 12, PER_EPOCH = 4;

/** `scripts/<script>.ts` with `args`, run by Deno after the command `prefix` (when given). */
function command(script: string, args: string[], prefix: string[] = []): Deno.Command {
  return denoCommand(["run", "--allow-all", scriptPath(script), ...args], { prefix });
}

function trainCommand(out: string, extra: string[] = [], prefix: string[] = []): Deno.Command {
  return command("train", [...TINY, "--out", out, ...extra], prefix);
}

/** Trains the tiny run into `out` and returns its exit code and stderr. */
function train(out: string, extra: string[] = [], prefix: string[] = []) {
  return outputOf(trainCommand(out, extra, prefix));
}

/**
 * The prefix that runs a command in a private mount namespace (so that a small tmpfs needs no
 * root) with a tmpfs of `options` at `mount`; before the tmpfs goes, every path under it that
 * `find` selects with `select` is printed as a `LEFT <path>` line.
 */
function inTmpfs(mount: string, options: string, select: string): string[] {
  const script = `mount -t tmpfs -o ${options} tmpfs "$0" && { "$@"; c=$?; ` +
    `find "$0" -mindepth 1 ${select} -printf 'LEFT %p\\n'; exit $c; }`;
  return ["unshare", "-rm", "sh", "-c", script, mount];
}

const lines = async (path: string) => (await Deno.readTextFile(path).catch(() => "")).split("\n").filter((l) => l);
const weights = async (dir: string) => JSON.parse(await Deno.readTextFile(`${dir}/summary.json`)).weightsSha256;

/** Files whose name says they were being written (`*.tmp-<pid>`), anywhere under `dir`. */
async function halfWritten(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) found.push(...(await halfWritten(`${dir}/${e.name}`)));
    else if (/\.tmp-\d+$/.test(e.name)) found.push(`${dir}/${e.name}`);
  }
  return found;
}

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
}

/** Polls `dir`'s log until `ready(lines)`, then kills the process with -9. */
async function killWhen(child: Deno.ChildProcess, dir: string, ready: (n: number) => boolean): Promise<number> {
  for (;;) {
    const n = (await lines(`${dir}/log.jsonl`)).length;
    if (ready(n)) {
      child.kill("SIGKILL");
      await child.status;
      await Promise.all([child.stdout.cancel(), child.stderr.cancel()]);
      return n;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test({
  name: "fault injection",
  sanitizeResources: false,
  fn: (t) =>
    inTempDir(async (root) => {
      const reference = `${root}/reference`;
      let referenceWeights = "";
      await t.step("an uninterrupted run, the reference", async () => {
        const r = await train(reference);
        assert.equal(r.code, 0, r.stderr);
        referenceWeights = await weights(reference);
        assert.deepEqual(await halfWritten(reference), []);
        assert.equal(await exists(`${reference}/.lock`), false, "the lock is released");
      });

      await t.step("a second writer on the folder is refused, naming the first; the first is undisturbed", async () => {
        const dir = `${root}/two-writers`;
        const first = trainCommand(dir).spawn();
        while ((await lines(`${dir}/log.jsonl`)).length === 0) await new Promise((r) => setTimeout(r, 10));
        const second = await train(dir, ["--resume"]);
        assert.equal(second.code, 2);
        assert.match(second.stderr.split("\n")[0]!, new RegExp(`^error: ${dir} is in use by process ${first.pid} on `));
        const out = await first.output();
        assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
        assert.equal(await weights(dir), referenceWeights);
        assert.equal((await lines(`${dir}/log.jsonl`)).length, STEPS);
      });

      // Points read from the run's own log: before the first checkpoint, mid-epoch 2, and after
      // the last iteration (while the last checkpoint and summary.json are written). Past the
      // first checkpoint the folder's marker goes too, as in a run trained before markers
      // existed: its checkpoint identifies it.
      const points: [string, (n: number) => boolean, boolean][] = [
        ["before the first checkpoint", (n) => n >= 1, false],
        ["mid-epoch 2", (n) => n >= PER_EPOCH + 2, true],
        ["after the last iteration", (n) => n >= STEPS, true],
      ];
      for (const [name, ready, unmarked] of points) {
        await t.step(`killed with -9 ${name}, resumed: the weights of a run never stopped`, async () => {
          const dir = `${root}/killed-${name.replaceAll(" ", "-")}`;
          await killWhen(trainCommand(dir).spawn(), dir, ready);
          if (unmarked) await Deno.remove(`${dir}/${MARKER}`);
          // What a killed writer can leave: its lock (unless it had just finished), and a file it
          // was writing.
          const locked = await exists(`${dir}/.lock`);
          await Deno.writeTextFile(`${dir}/checkpoint.bin.tmp-999999`, "half");
          const r = await train(dir, ["--resume"]);
          assert.equal(r.code, 0, r.stderr);
          if (locked) assert.match(r.stderr, /taking over the lock of process \d+ .* which is no longer running/);
          assert.match(r.stderr, /removed checkpoint\.bin\.tmp-999999 from /);
          assert.equal(await weights(dir), referenceWeights);
          assert.equal((await lines(`${dir}/log.jsonl`)).length, STEPS);
          assert.deepEqual(await halfWritten(dir), []);
        });
      }

      /** A copy of the reference run, damaged by `damage`, resumed. */
      const resumeDamaged = async (name: string, damage: (dir: string) => Promise<void>) => {
        const dir = `${root}/${name}`;
        await copyDir(reference, dir);
        await damage(dir);
        return { dir, ...(await train(dir, ["--resume"])) };
      };

      await t.step("a checkpoint with changed weights is refused by its checksum", async () => {
        const r = await resumeDamaged("nan-weights", async (dir) => {
          const bytes = await Deno.readFile(`${dir}/checkpoint.bin`);
          new DataView(bytes.buffer).setFloat32(bytes.length - 4, NaN, true);
          await Deno.writeFile(`${dir}/checkpoint.bin`, bytes);
        });
        assert.equal(r.code, 2);
        assert.equal(
          r.stderr.split("\n")[0],
          `error: Cannot read checkpoint "${r.dir}/checkpoint.bin": its weights and optimiser state do not match ` +
            "their sha256 (the file is damaged)",
        );
      });

      await t.step("a log line cut short by a crash is dropped, and said so", async () => {
        const r = await resumeDamaged(
          "torn-log",
          (dir) => Deno.writeTextFile(`${dir}/log.jsonl`, '{"step":13,"ep', { append: true }),
        );
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, new RegExp(`${r.dir}/log.jsonl: dropped line ${STEPS + 1}, cut short`));
        assert.equal((await lines(`${r.dir}/log.jsonl`)).length, STEPS);
        assert.equal(await weights(r.dir), referenceWeights);
      });

      await t.step("a garbled log line is an error naming the file and line", async () => {
        const r = await resumeDamaged("garbled-log", async (dir) => {
          const log = await lines(`${dir}/log.jsonl`);
          log[2] = log[2]!.slice(0, 20);
          await Deno.writeTextFile(`${dir}/log.jsonl`, log.join("\n") + "\n");
        });
        assert.equal(r.code, 2);
        assert.match(r.stderr.split("\n")[0]!, new RegExp(`^error: ${r.dir}/log.jsonl:3: not a JSON line \\(`));
      });

      await t.step("a deleted log is an error, not a summary of nulls", async () => {
        const r = await resumeDamaged("deleted-log", (dir) => Deno.remove(`${dir}/log.jsonl`));
        assert.equal(r.code, 2);
        assert.equal(
          r.stderr.split("\n")[0],
          `error: ${r.dir}/log.jsonl does not match the checkpoint (steps 1..${STEPS}): it has 0 records; ` +
            "the run cannot be resumed, train it again in a new folder",
        );
      });

      // Whether a small tmpfs can be mounted here (no unshare, or a sandbox that forbids it: skip).
      await Deno.mkdir(`${root}/probe`);
      const unshare = await new Deno.Command("unshare", {
        args: ["-rm", "sh", "-c", 'mount -t tmpfs -o size=64k tmpfs "$0"', `${root}/probe`],
        stderr: "null",
      }).output().then((r) => r.success, () => false);
      for (
        const [name, options, first] of [
          ["a full disk", "size=256k", /^error: Cannot write .*\/checkpoint\.bin: No space left on device$/],
          ["a read-only disk", "size=256k,ro", /^error: Cannot write .*\/run: Read-only file system$/],
        ] as const
      ) {
        await t.step({
          name: `${name}: one line naming the path, no partial file`,
          ignore: !unshare,
          fn: async () => {
            const mount = `${root}/mnt-${options.length}`;
            await Deno.mkdir(mount);
            const r = await train(`${mount}/run`, [], inTmpfs(mount, options, "-name '*.tmp-*'"));
            assert.equal(r.code, 2, r.stderr);
            // Training has started (its progress lines come first): the error is the last line.
            assertOneErrorLine(r.stderr, first);
            assert.doesNotMatch(r.stdout, /^LEFT /m, "no half-written file");
          },
        });
      }
      await t.step({
        name: "a dataset export on a full disk: one line naming the folder, nothing of it left",
        ignore: !unshare,
        fn: async () => {
          const mount = `${root}/mnt-dataset`;
          await Deno.mkdir(mount);
          const r = await outputOf(
            command("dataset", ["--out", `${mount}/ds`, "--data", "original"], inTmpfs(mount, "size=256k", "")),
          );
          assert.equal(r.code, 2, r.stderr);
          assertOneErrorLine(r.stderr, /^error: Cannot write .*\/ds\/original: No space left on device$/);
          // The folder --out names is made first; nothing of the dataset is in it.
          assert.deepEqual(r.stdout.trimEnd().split("\n"), [`LEFT ${mount}/ds`]);
        },
      });
      if (!unshare) console.error("skipped the full and read-only disk cases: `unshare -rm` cannot mount a tmpfs here");
    }),
});
