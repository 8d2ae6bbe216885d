/**
 * Every command against every kind of bad path a user can give it (src/files.ts end to end):
 * nothing there, a folder of the user's where the command writes one, a file where a folder
 * goes and the reverse, a folder it may not read, a read-only and a full disk. Each must exit 2
 * with one line naming the path, before or without changing anything of the user's. The disks
 * are tmpfs mounts in a private mount namespace, and the folder without permission is read by
 * the user's own id mapped in a user namespace (root reads anything), as in tests/fault_test.ts;
 * where `unshare` cannot do either, those cases are skipped with a message.
 */

import assert from "node:assert/strict";
import { resolveConfig } from "../src/config.ts";
import { openFolder } from "../src/files.ts";
import { RUN_FOLDER } from "../src/train/run_folder.ts";
import { saveEmptyCheckpoint } from "./helpers.ts";
import { assertOneErrorLine, denoCommand, outputOf, scriptPath } from "./subprocess.ts";

/** Where a case runs: as it is, without permission to the locked folder, or with a disk mounted. */
type Place = "here" | "no permission" | "read-only" | "full";

/** A case: the command, the kind of bad path, its arguments and its error line, with R and M for the folders. */
type Case = [script: string, kind: string, args: string, error: string | RegExp, place?: Place];

const TRAIN = "--profile smoke --data shifted --method crltac --seed 3 --train-size 32 --batch 8 --epochs 1";

/** Each command with each kind of bad path; R is the user's folder, M the mounted disk (holding a copy of R/run). */
const CASES: Case[] = [
  ["train", "not found", `${TRAIN} --out R/new --mnist R/none`, "Cannot read the MNIST folder R/none: no such folder"],
  [
    "train",
    "a folder of the user's",
    `${TRAIN} --out R/docs`,
    "Cannot write the run folder R/docs: it holds thesis.tex and is not a run folder of this package " +
    "(choose a new or empty folder)",
  ],
  [
    "train",
    "a file where a folder goes",
    `${TRAIN} --out R/file.txt`,
    "Cannot write the run folder R/file.txt: it is a file",
  ],
  [
    "train",
    "no permission",
    `${TRAIN} --out R/locked/run`,
    "Cannot read R/locked/run: Permission denied",
    "no permission",
  ],
  [
    "train",
    "a read-only disk",
    `${TRAIN} --out M/new`,
    /^error: Cannot write M\/new: Read-only file system$/,
    "read-only",
  ],
  ["train", "a full disk", `${TRAIN} --out M/new`, /^error: Cannot write M\/new\S*: No space left on device$/, "full"],

  ["evaluate", "not found", "--run R/none", "Cannot read the run folder R/none: no such folder"],
  [
    "evaluate",
    "a folder of the user's",
    "--run R/run --save-features R/docs",
    "Cannot write the features folder R/docs: it holds thesis.tex and is not a features folder of this package " +
    "(choose a new or empty folder)",
  ],
  [
    "evaluate",
    "a folder of the package's of another kind",
    "--run R/run --save-features R/run",
    "Cannot write the features folder R/run: it is a run folder of this package (choose another folder)",
  ],
  ["evaluate", "a file where a folder goes", "--run R/file.txt", "Cannot read the run folder R/file.txt: it is a file"],
  [
    "evaluate",
    "a folder where a file goes",
    "--raw shifted --profile smoke --out R/docs",
    "Cannot write the result file R/docs: it is a folder",
  ],
  [
    "evaluate",
    "a file of the user's",
    "--raw shifted --profile smoke --out R/file.txt",
    "Cannot write the result file R/file.txt: it holds something this package did not write (choose a new file)",
  ],
  ["evaluate", "no permission", "--run R/locked/run", "Cannot read R/locked/run: Permission denied", "no permission"],
  [
    "evaluate",
    "a read-only disk",
    "--run M/run",
    /^error: Cannot \w+ M\/run\/\S+: Read-only file system$/,
    "read-only",
  ],
  ["evaluate", "a full disk", "--run M/run", /^error: Cannot \w+ M\/run\/\S+: No space left on device$/, "full"],

  ["landscape", "not found", "--run R/none", "Cannot read the run folder R/none: no such folder"],
  [
    "landscape",
    "a file where a folder goes",
    "--run R/file.txt",
    "Cannot read the run folder R/file.txt: it is a file",
  ],
  ["landscape", "no permission", "--run R/locked/run", "Cannot read R/locked/run: Permission denied", "no permission"],
  [
    "landscape",
    "a read-only disk",
    "--run M/run",
    /^error: Cannot \w+ M\/run\/\S+: Read-only file system$/,
    "read-only",
  ],
  ["landscape", "a full disk", "--run M/run", /^error: Cannot \w+ M\/run\/\S+: No space left on device$/, "full"],

  ["upgrade", "not found", "R/none", "Cannot read R/none: No such file or directory"],
  ["upgrade", "a folder of the user's", "R/docs", "Cannot upgrade R/docs: not a run or study folder of this package"],
  ["upgrade", "a file where a folder goes", "R/file.txt", "Cannot read R/file.txt: Not a directory"],
  ["upgrade", "no permission", "R/locked/run", "Cannot read R/locked/run: Permission denied", "no permission"],

  ["dataset", "not found", "--out R/new --mnist R/none", "Cannot read the MNIST folder R/none: no such folder"],
  [
    "dataset",
    "a folder of the user's",
    "--out R/ds",
    "Cannot write the dataset folder R/ds/shifted: it holds mine.txt and is not a dataset folder of this package " +
    "(choose a new or empty folder)",
  ],
  [
    "dataset",
    "a file where a folder goes",
    "--out R/file.txt",
    "Cannot write the dataset folder R/file.txt/shifted: R/file.txt is a file",
  ],
  [
    "dataset",
    "no permission",
    "--out R/locked/ds",
    "Cannot read R/locked/ds/shifted: Permission denied",
    "no permission",
  ],
  [
    "dataset",
    "a read-only disk",
    "--out M/ds",
    /^error: Cannot write M\/ds\/shifted: Read-only file system$/,
    "read-only",
  ],
  [
    "dataset",
    "a full disk",
    "--out M/ds --data original",
    /^error: Cannot write M\/ds\/original: No space left on device$/,
    "full",
  ],

  ["merge", "not found", "--out R/new R/shard R/none", "Cannot read the shard folder R/none: no such folder"],
  [
    "merge",
    "a folder of the user's",
    "--out R/docs R/shard",
    "Cannot write the merged study folder R/docs: it holds thesis.tex and is not a merged study folder of this " +
    "package (choose a new or empty folder)",
  ],
  [
    "merge",
    "a file where a folder goes",
    "--out R/file.txt R/shard",
    "Cannot write the merged study folder R/file.txt: it is a file",
  ],
  [
    "merge",
    "a file where a shard folder goes",
    "--out R/new R/shard R/file.txt",
    "Cannot read the shard folder R/file.txt: it is a file",
  ],
  [
    "merge",
    "an empty shard among others",
    "--out R/new R/shard R/docs",
    "Cannot merge the shard folder R/docs: it holds no finished run",
  ],
  [
    "merge",
    "no permission",
    "--out R/new R/shard R/locked",
    "Cannot read R/locked: Permission denied",
    "no permission",
  ],
  ["merge", "a read-only disk", "--out M/m R/shard", /^error: Cannot write M\/m: Read-only file system$/, "read-only"],
  ["merge", "a full disk", "--out M/m R/shard", /^error: Cannot write M\/m: No space left on device$/, "full"],

  ...["reproduce --profile smoke --only shifted/simclr/0", "sweep --grid pstep --only sampled --seeds 0"].flatMap(
    (command): Case[] => {
      const [script, ...rest] = command.split(" ");
      const args = rest.join(" ");
      return [
        [
          script!,
          "not found",
          `${args} --out R/new --mnist R/none`,
          "Cannot read the MNIST folder R/none: no such folder",
        ],
        [
          script!,
          "a folder of the user's",
          `${args} --out R/docs`,
          "Cannot write the study folder R/docs: it holds thesis.tex and is not a study folder of this package " +
          "(choose a new or empty folder)",
        ],
        [
          script!,
          "a file where a folder goes",
          `${args} --out R/file.txt`,
          "Cannot write the study folder R/file.txt: it is a file",
        ],
        [
          script!,
          "no permission",
          `${args} --out R/locked/study`,
          "Cannot read R/locked/study: Permission denied",
          "no permission",
        ],
        [
          script!,
          "a read-only disk",
          `${args} --out M/s`,
          /^error: Cannot write M\/s: Read-only file system$/,
          "read-only",
        ],
        [script!, "a full disk", `${args} --out M/s`, /^error: Cannot write M\/s\S*: No space left on device$/, "full"],
      ];
    },
  ),

  [
    "bundle",
    "a folder of the user's",
    "--out R/docs train",
    "Cannot write the bundle folder R/docs: it holds thesis.tex and is not a bundle folder of this package " +
    "(choose a new or empty folder)",
  ],
  [
    "bundle",
    "a file where a folder goes",
    "--out R/file.txt train",
    "Cannot write the bundle folder R/file.txt: it is a file",
  ],
  ["bundle", "no permission", "--out R/locked/b train", "Cannot read R/locked/b: Permission denied", "no permission"],
  ["bundle", "a read-only disk", "--out M/b train", /^error: Cannot write M\/b: Read-only file system$/, "read-only"],
  ["bundle", "a full disk", "--out M/b train", /^error: Cannot write M\/b: No space left on device$/, "full"],

  ["bench", "not found", "--mnist R/none", "Cannot read the MNIST folder R/none: no such folder"],
  [
    "bench",
    "a file where a folder goes",
    "--mnist R/file.txt",
    "Cannot read the MNIST folder R/file.txt: it is a file",
  ],
  ["bench", "no permission", "--mnist R/locked", "Cannot read R/locked: Permission denied", "no permission"],
];

/** `text` matched as it is in a regular expression. */
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** Every path under `dir` with its content, to see that a case changed nothing. */
async function snapshot(dir: string, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for await (const e of Deno.readDir(`${dir}/${prefix}`)) {
    const path = `${prefix}${e.name}`;
    if (e.isDirectory) found.push(`${path}/`, ...(await snapshot(dir, `${path}/`)));
    else found.push(`${path}: ${await Deno.readTextFile(`${dir}/${path}`).catch(() => "(binary)")}`);
  }
  return found.sort();
}

/**
 * The command before deno that runs a case's place: a user namespace with the user's own id
 * mapped to an id without root's powers, or a mount namespace with a tmpfs at `mount` holding a
 * copy of `copy`, then made read-only or filled.
 */
function prefixOf(place: Place, mount: string, copy: string): string[] {
  if (place === "here") return [];
  if (place === "no permission") return ["unshare", "--user", "--map-user=1000", "--map-group=1000"];
  const then = place === "read-only" ? `mount -o remount,ro "$0"` : `{ cat /dev/zero > "$0/fill" 2>/dev/null; true; }`;
  const script = `mount -t tmpfs -o size=2m tmpfs "$0" && cp -a "$1/." "$0/" && ${then} && shift && exec "$@"`;
  return ["unshare", "-rm", "sh", "-c", script, mount, copy];
}

/** Whether `prefix` runs a command here (unshare, user namespaces and mounts allowed). */
function runs(prefix: string[]): Promise<boolean> {
  const [cmd, ...args] = prefix;
  return new Deno.Command(cmd!, { args: [...args, "true"], stdout: "null", stderr: "null" }).output()
    .then((r) => r.success, () => false);
}

Deno.test({
  name: "every command refuses every kind of bad path with exit 2 and one line naming it, changing nothing",
  sanitizeResources: false,
  fn: async (t) => {
    const root = await Deno.makeTempDir({ prefix: "crl-tac-paths-" });
    const R = `${root}/r`, M = `${root}/mnt`, copy = `${root}/copy`;
    try {
      await Deno.mkdir(`${R}/docs`, { recursive: true });
      await Deno.writeTextFile(`${R}/file.txt`, "mine");
      await Deno.writeTextFile(`${R}/docs/thesis.tex`, "mine");
      await Deno.mkdir(`${R}/ds/shifted`, { recursive: true });
      await Deno.writeTextFile(`${R}/ds/shifted/mine.txt`, "mine");
      // A finished run (weights that no case gets to use) and a shard of one finished run.
      await openFolder(`${R}/run`, RUN_FOLDER);
      await saveEmptyCheckpoint(
        `${R}/run/checkpoint.bin`,
        resolveConfig("smoke", "shifted", "simclr", 0, { epochs: 1 }),
        1,
      );
      const medium = new URL("../studies/medium/shifted-simclr-seed0/", import.meta.url).pathname;
      await Deno.mkdir(`${R}/shard/shifted-simclr-seed0`, { recursive: true });
      for (const file of ["summary.json", "eval.json"]) {
        await Deno.copyFile(`${medium}${file}`, `${R}/shard/shifted-simclr-seed0/${file}`);
      }
      await Deno.mkdir(`${copy}/run`, { recursive: true });
      for await (const e of Deno.readDir(`${R}/run`)) {
        await Deno.copyFile(`${R}/run/${e.name}`, `${copy}/run/${e.name}`);
      }
      await Deno.mkdir(M);
      await Deno.mkdir(`${R}/locked`);
      await Deno.writeTextFile(`${R}/locked/x`, "mine");
      const before = await snapshot(R);
      await Deno.chmod(`${R}/locked`, 0o000);
      const usable: Record<Place, boolean> = {
        here: true,
        "no permission": await runs(prefixOf("no permission", M, copy)),
        "read-only": await runs(["unshare", "-rm", "sh", "-c", `mount -t tmpfs tmpfs "$0" && exec "$@"`, M]),
        full: false,
      };
      usable.full = usable["read-only"];
      for (const [script, kind, args, error, place = "here"] of CASES) {
        await t.step({
          name: `${script}: ${kind}`,
          ignore: !usable[place],
          fn: async () => {
            const argv = args.split(" ").map((a) => a.replace(/^R(?=\/)/, R).replace(/^M(?=\/)/, M));
            const r = await outputOf(
              denoCommand(["run", "--allow-all", scriptPath(script), ...argv], { prefix: prefixOf(place, M, copy) }),
            );
            assert.equal(r.code, 2, r.stderr);
            const line = typeof error === "string"
              ? new RegExp(`^${escape(`error: ${error.replaceAll("R/", `${R}/`)}`)}$`)
              : new RegExp(error.source.replaceAll("M\\/", `${escape(M)}\\/`));
            assertOneErrorLine(r.stderr, line);
            await Deno.chmod(`${R}/locked`, 0o700);
            assert.deepEqual(await snapshot(R), before, "the user's folder is as it was");
            await Deno.chmod(`${R}/locked`, 0o000);
          },
        });
      }
      const skipped = Object.entries(usable).filter(([, ok]) => !ok).map(([place]) => place);
      if (skipped.length) {
        console.error(`skipped the cases needing ${skipped.join(", ")}: unshare cannot make them here`);
      }
    } finally {
      await Deno.chmod(`${R}/locked`, 0o700).catch(() => {});
      await Deno.remove(root, { recursive: true });
    }
  },
});
