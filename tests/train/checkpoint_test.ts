import assert from "node:assert/strict";
import { UserError } from "../../src/cli.ts";
import { resolveConfig } from "../../src/config.ts";
import { MARKER, openFolder } from "../../src/files.ts";
import {
  type Checkpoint,
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  isCheckpointFile,
  loadCheckpoint,
  loadCheckpointConfig,
  saveCheckpoint,
} from "../../src/train/checkpoint.ts";
import { RUN_FOLDER } from "../../src/train/run_folder.ts";
import { inTempDir } from "../temp_dirs.ts";

const checkpoint = (policy: boolean): Checkpoint => ({
  config: resolveConfig("smoke", "shifted", policy ? "crltac" : "simclr", 1),
  epoch: 2,
  step: 64,
  rng: [1, 2, 3, 4],
  elapsedMs: 1234,
  encoder: [Float32Array.of(1, 2, 3), Float32Array.of(-0.5)],
  encoderAdam: {
    step: 64,
    m: [Float32Array.of(0.1, 0.2, 0.3), Float32Array.of(0)],
    v: [Float32Array.of(1, 1, 1), Float32Array.of(2)],
  },
  policy: policy ? [Float32Array.of(7, 8)] : null,
  policyAdam: policy ? { step: 64, m: [Float32Array.of(0, 1)], v: [Float32Array.of(3, 4)] } : null,
});

Deno.test("a checkpoint round-trips through its bytes, with and without P(T|X)", () => {
  for (const policy of [true, false]) {
    const c = checkpoint(policy);
    assert.deepEqual(decodeCheckpoint(encodeCheckpoint(c), "x"), c);
  }
});

Deno.test("decodeCheckpoint() rejects damaged files with a reason", () => {
  const bytes = encodeCheckpoint(checkpoint(true));
  assert.throws(
    () => decodeCheckpoint(bytes.subarray(0, bytes.length - 4), "f"),
    (e) => e instanceof CheckpointError && /"f": truncated payload/.test(e.message),
  );
  assert.throws(() => decodeCheckpoint(new Uint8Array([...bytes, 0, 0, 0, 0]), "f"), /4 trailing bytes/);
  assert.throws(() => decodeCheckpoint(new TextEncoder().encode("not a checkpoint at all"), "f"), /bad magic/);
});

Deno.test("decodeCheckpoint() refuses weights changed after saving, NaN or finite, by their checksum", () => {
  const bytes = encodeCheckpoint(checkpoint(true));
  const header = new DataView(bytes.buffer).getUint32(8, true);
  for (const value of [NaN, 0.25]) {
    const damaged = bytes.slice();
    new DataView(damaged.buffer).setFloat32(12 + header, value, true);
    assert.throws(
      () => decodeCheckpoint(damaged, "f"),
      (e) =>
        e instanceof CheckpointError && e instanceof UserError &&
        e.message === 'Cannot read checkpoint "f": its weights and optimiser state do not match their sha256 ' +
            "(the file is damaged)",
    );
  }
});

Deno.test("a checkpoint without the sha256 of its contents is refused", () => {
  const bytes = encodeCheckpoint(checkpoint(false));
  const length = new DataView(bytes.buffer).getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + length)));
  delete header.payloadSha256;
  const json = new TextEncoder().encode(JSON.stringify(header).padEnd(length, " "));
  const old = bytes.slice();
  old.set(json, 12);
  assert.throws(
    () => decodeCheckpoint(old, "f"),
    (e: Error) => e.message === 'Cannot read checkpoint "f": it has no sha256 of its contents to check them by',
  );
});

Deno.test("saveCheckpoint() replaces the file atomically and leaves no temporary file", () =>
  inTempDir(async (dir) => {
    const path = `${dir}/checkpoint.bin`;
    assert.equal(await loadCheckpoint(path), null);
    await saveCheckpoint(path, checkpoint(false));
    await saveCheckpoint(path, checkpoint(true));
    assert.deepEqual(await loadCheckpoint(path), checkpoint(true));
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names, ["checkpoint.bin"]);
  }));

Deno.test("loadCheckpointConfig() reads the config from the header alone", () =>
  inTempDir(async (dir) => {
    const path = `${dir}/checkpoint.bin`;
    assert.equal(await loadCheckpointConfig(path), null);
    const c = checkpoint(true);
    const bytes = encodeCheckpoint(c);
    const payloadStart = 12 + new DataView(bytes.buffer).getUint32(8, true);
    // Without its payload the file is no checkpoint, but its header still names the config.
    await Deno.writeFile(path, bytes.subarray(0, payloadStart));
    assert.deepEqual(await loadCheckpointConfig(path), c.config);
    await assert.rejects(() => loadCheckpoint(path), /truncated payload/);
    const hugeLength = bytes.slice(0, 16);
    new DataView(hugeLength.buffer).setUint32(8, 0xffffffff, true);
    const cases = [
      [bytes.subarray(0, payloadStart - 1), /truncated header/],
      [hugeLength, /truncated header/],
      [new TextEncoder().encode("CRLTAC1"), /bad magic/],
    ] as const;
    for (const [damaged, reason] of cases) {
      await Deno.writeFile(path, damaged);
      await assert.rejects(
        () => loadCheckpointConfig(path),
        (e) => e instanceof CheckpointError && reason.test(e.message),
      );
    }
  }));

Deno.test("a run folder trained before markers is known by its checkpoint's first bytes, and marked when taken", () =>
  inTempDir(async (dir) => {
    await saveCheckpoint(`${dir}/checkpoint.bin`, checkpoint(true));
    assert.equal(await isCheckpointFile(`${dir}/checkpoint.bin`), true);
    await openFolder(dir, RUN_FOLDER);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/${MARKER}`)), { package: "crl-tac", kind: "run" });
    await Deno.mkdir(`${dir}/mine`);
    await Deno.writeTextFile(`${dir}/mine/checkpoint.bin`, "CRLTAC0 not ours");
    assert.equal(await isCheckpointFile(`${dir}/mine/checkpoint.bin`), false);
    assert.equal(await isCheckpointFile(`${dir}/none.bin`), false);
    await assert.rejects(openFolder(`${dir}/mine`, RUN_FOLDER), UserError);
  }));
