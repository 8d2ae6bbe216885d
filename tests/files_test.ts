import assert from "node:assert/strict";

import { UserError } from "../src/cli.ts";
import {
  checkFolder,
  checkInputFolder,
  checkOutputFile,
  exists,
  type FolderKind,
  fsError,
  MARKER,
  openFolder,
  removeLeftovers,
  writeFileAtomic,
  writeFolderAtomic,
  writeTextAtomic,
} from "../src/files.ts";
import { inTempDir } from "./temp_dirs.ts";

const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();
const marker = (dir: string) => JSON.parse(Deno.readTextFileSync(`${dir}/${MARKER}`));

/** A rejection with exactly `message`, a {@linkcode UserError}. */
const userError = (message: string) => (e: unknown) => {
  assert.ok(e instanceof UserError, String(e));
  assert.equal(e.message, message);
  return true;
};

const FEATURES: FolderKind = { name: "features", whole: true };
const RUN: FolderKind = {
  name: "run",
  unmarked: (dir) => exists(`${dir}/checkpoint.bin`),
};

Deno.test("writeFolderAtomic() replaces a folder whole, and leaves it as it was when writing fails", () =>
  inTempDir(async (root) => {
    const dir = `${root}/features`;
    await writeFolderAtomic(dir, FEATURES, async (stage) => {
      await Deno.writeTextFile(`${stage}/a.f32`, "a");
      await Deno.writeTextFile(`${stage}/manifest.json`, "{}");
    });
    assert.deepEqual(names(dir), [MARKER, "a.f32", "manifest.json"]);
    await assert.rejects(
      writeFolderAtomic(dir, FEATURES, async (stage) => {
        await Deno.writeTextFile(`${stage}/b.f32`, "half");
        throw new Error("killed mid-write");
      }),
      /killed mid-write/,
    );
    assert.deepEqual(names(root), ["features"], "no temporary folder left");
    assert.deepEqual(names(dir), [MARKER, "a.f32", "manifest.json"]);
    await writeFolderAtomic(`${dir}/`, FEATURES, (stage) => Deno.writeTextFile(`${stage}/c.f32`, "c"), () => {});
    assert.deepEqual(names(root), ["features"]);
    assert.deepEqual(names(dir), [MARKER, "c.f32"]);
  }));

Deno.test("writeFolderAtomic() replaces only a folder of its kind that holds nothing but what its marker lists, and says so", () =>
  inTempDir(async (root) => {
    const write = (stage: string) => Deno.mkdir(`${stage}/sub`).then(() => Deno.writeTextFile(`${stage}/sub/x`, "x"));
    const dir = `${root}/f`;
    await writeFolderAtomic(dir, FEATURES, write);
    assert.deepEqual(marker(dir), { package: "crl-tac", kind: "features", files: ["sub/", "sub/x"] });
    const lines: string[] = [];
    await writeFolderAtomic(dir, FEATURES, write, (line) => lines.push(line));
    assert.deepEqual(lines, [`replacing the features folder ${dir}, which this package wrote earlier`]);
    await Deno.writeTextFile(`${dir}/sub/notes.txt`, "mine");
    await assert.rejects(
      writeFolderAtomic(dir, FEATURES, write),
      userError(
        `Cannot write the features folder ${dir}: it holds sub/notes.txt, which this package did not write ` +
          "(move it away or choose another folder)",
      ),
    );
    assert.deepEqual(names(`${dir}/sub`), ["notes.txt", "x"]);
    await assert.rejects(
      writeFolderAtomic(dir, { name: "dataset", whole: true }, write),
      userError(
        `Cannot write the dataset folder ${dir}: it is a features folder of this package (choose another folder)`,
      ),
    );
    assert.deepEqual(names(root), ["f"], "nothing staged");
  }));

Deno.test("openFolder() takes a new, empty or marked folder of its kind, or one its kind recognises, and marks it", () =>
  inTempDir(async (root) => {
    await openFolder(`${root}/new/run`, RUN);
    assert.deepEqual(marker(`${root}/new/run`), { package: "crl-tac", kind: "run" });
    await Deno.mkdir(`${root}/empty`);
    await openFolder(`${root}/empty`, RUN);
    await Deno.writeTextFile(`${root}/empty/log.jsonl`, "");
    await openFolder(`${root}/empty`, RUN);
    assert.deepEqual(names(`${root}/empty`), [MARKER, "log.jsonl"]);
    await Deno.mkdir(`${root}/old`);
    await Deno.writeTextFile(`${root}/old/checkpoint.bin`, "");
    assert.equal(await checkFolder(`${root}/old`, RUN), true);
    await openFolder(`${root}/old`, RUN);
    assert.deepEqual(names(`${root}/old`), [MARKER, "checkpoint.bin"]);
    assert.equal(await checkFolder(`${root}/nothing`, RUN), false);
  }));

Deno.test("openFolder() and checkFolder() refuse what is in the way, naming it, and write nothing", (t) =>
  inTempDir(async (root) => {
    await Deno.writeTextFile(`${root}/a.txt`, "mine");
    await Deno.mkdir(`${root}/docs`);
    for (const name of ["thesis.tex", "b", "c", "d"]) await Deno.writeTextFile(`${root}/docs/${name}`, "mine");
    await writeFolderAtomic(`${root}/features`, FEATURES, async () => {});
    const cases: [string, string, string][] = [
      ["a file", "a.txt", "it is a file"],
      ["a folder under a file", "a.txt/run", `${root}/a.txt is a file`],
      [
        "a folder of the user's",
        "docs",
        "it holds b, c and 2 more and is not a run folder of this package (choose a new or empty folder)",
      ],
      ["a folder of another kind", "features", "it is a features folder of this package (choose another folder)"],
    ];
    for (const [name, path, why] of cases) {
      await t.step(name, async () => {
        const message = `Cannot write the run folder ${root}/${path}: ${why}`;
        await assert.rejects(openFolder(`${root}/${path}`, RUN), userError(message));
        await assert.rejects(checkFolder(`${root}/${path}`, RUN), userError(message));
      });
    }
    assert.deepEqual(names(root), ["a.txt", "docs", "features"]);
    assert.deepEqual(names(`${root}/docs`), ["b", "c", "d", "thesis.tex"]);
    assert.equal(await Deno.readTextFile(`${root}/a.txt`), "mine");
  }));

Deno.test("checkOutputFile() takes a new file in a folder, or one of this package's, and refuses the rest", () =>
  inTempDir(async (root) => {
    const ours = (path: string) => Deno.readTextFile(path).then((text) => text === "ours");
    const check = (path: string) => checkOutputFile(`${root}/${path}`, "result file", ours);
    const refused = (path: string, why: string) =>
      assert.rejects(check(path), userError(`Cannot write the result file ${root}/${path}: ${why}`));
    await Deno.writeTextFile(`${root}/ours.json`, "ours");
    await Deno.writeTextFile(`${root}/mine.json`, "mine");
    await check("new.json");
    await check("ours.json");
    await refused("mine.json", "it holds something this package did not write (choose a new file)");
    await refused(".", "it is a folder");
    await refused("no/x.json", `there is no folder ${root}/no`);
    await refused("mine.json/x.json", `${root}/mine.json is a file`);
  }));

Deno.test("checkInputFolder() names a folder that is missing or a file", () =>
  inTempDir(async (root) => {
    await Deno.writeTextFile(`${root}/a.txt`, "");
    await checkInputFolder(root, "shard folder");
    for (const [path, why] of [["none", "no such folder"], ["a.txt", "it is a file"]]) {
      await assert.rejects(
        checkInputFolder(`${root}/${path}`, "shard folder"),
        userError(`Cannot read the shard folder ${root}/${path}: ${why}`),
      );
    }
  }));

Deno.test("exists() sees files, folders and what links point at, and not dangling links", () =>
  inTempDir(async (root) => {
    await Deno.writeTextFile(`${root}/a.txt`, "");
    await Deno.symlink(`${root}/a.txt`, `${root}/to-a`);
    await Deno.symlink(`${root}/none`, `${root}/dangling`);
    const found = await Promise.all(["", "/a.txt", "/to-a", "/dangling", "/none"].map((p) => exists(`${root}${p}`)));
    assert.deepEqual(found, [true, true, true, false, false]);
  }));

Deno.test("removeLeftovers() removes the files killed writers left, and nothing else", () =>
  inTempDir(async (dir) => {
    for (const name of ["checkpoint.bin", "checkpoint.bin.tmp-123", "log.jsonl.tmp-9", "x.tmp-y", ".lock"]) {
      await Deno.writeTextFile(`${dir}/${name}`, "");
    }
    assert.deepEqual((await removeLeftovers(dir)).sort(), ["checkpoint.bin.tmp-123", "log.jsonl.tmp-9"]);
    assert.deepEqual(names(dir), [".lock", "checkpoint.bin", "x.tmp-y"]);
    await writeTextAtomic(`${dir}/summary.json`, "{}");
    await writeFileAtomic(`${dir}/checkpoint.bin`, new Uint8Array([1]));
    assert.deepEqual(names(dir), [".lock", "checkpoint.bin", "summary.json", "x.tmp-y"]);
  }));

Deno.test("fsError() makes an error of a path the user gave their one line naming the path, and keeps other errors", () => {
  const full = Object.assign(new Error("No space left on device (os error 28): write"), { code: "ENOSPC" });
  const e = fsError(full, "/out/checkpoint.bin");
  assert.ok(e instanceof UserError);
  assert.equal(e.message, "Cannot write /out/checkpoint.bin: No space left on device");
  const file = Object.assign(new Error("Not a directory (os error 20): readdir 'a.txt'"), { code: "ENOTDIR" });
  assert.equal((fsError(file, "a.txt", "read") as Error).message, "Cannot read a.txt: Not a directory");
  const bug = new TypeError("x is undefined");
  assert.equal(fsError(bug, "/out/x"), bug);
});
