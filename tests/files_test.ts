import assert from "node:assert/strict";

import { UserError } from "../src/cli.ts";
import { fsError, removeLeftovers, writeFileAtomic, writeFolderAtomic, writeTextAtomic } from "../src/files.ts";

const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test("writeFolderAtomic() replaces a folder whole, and leaves it as it was when writing fails", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = `${root}/features`;
    await writeFolderAtomic(dir, async (stage) => {
      await Deno.writeTextFile(`${stage}/a.f32`, "a");
      await Deno.writeTextFile(`${stage}/manifest.json`, "{}");
    });
    assert.deepEqual(names(dir), ["a.f32", "manifest.json"]);
    await assert.rejects(
      writeFolderAtomic(dir, async (stage) => {
        await Deno.writeTextFile(`${stage}/b.f32`, "half");
        throw new Error("killed mid-write");
      }),
      /killed mid-write/,
    );
    assert.deepEqual(names(root), ["features"], "no temporary folder left");
    assert.deepEqual(names(dir), ["a.f32", "manifest.json"]);
    await writeFolderAtomic(`${dir}/`, (stage) => Deno.writeTextFile(`${stage}/c.f32`, "c"));
    assert.deepEqual(names(root), ["features"]);
    assert.deepEqual(names(dir), ["c.f32"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("removeLeftovers() removes the files killed writers left, and nothing else", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const name of ["checkpoint.bin", "checkpoint.bin.tmp-123", "log.jsonl.tmp-9", "x.tmp-y", ".lock"]) {
      await Deno.writeTextFile(`${dir}/${name}`, "");
    }
    assert.deepEqual((await removeLeftovers(dir)).sort(), ["checkpoint.bin.tmp-123", "log.jsonl.tmp-9"]);
    assert.deepEqual(names(dir), [".lock", "checkpoint.bin", "x.tmp-y"]);
    await writeTextAtomic(`${dir}/summary.json`, "{}");
    await writeFileAtomic(`${dir}/checkpoint.bin`, new Uint8Array([1]));
    assert.deepEqual(names(dir), [".lock", "checkpoint.bin", "summary.json", "x.tmp-y"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("fsError() makes a full or read-only disk the user's one line naming the path, and keeps other errors", () => {
  const full = Object.assign(new Error("No space left on device (os error 28): write"), { code: "ENOSPC" });
  const e = fsError(full, "/out/checkpoint.bin");
  assert.ok(e instanceof UserError);
  assert.equal(e.message, "Cannot write /out/checkpoint.bin: No space left on device");
  const bug = new TypeError("x is undefined");
  assert.equal(fsError(bug, "/out/x"), bug);
});
