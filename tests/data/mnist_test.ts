import assert from "node:assert/strict";
import { loadMnist, MnistDataError, mnistPath, readMnistFile } from "../../src/data/mnist.ts";
import { inTempDir } from "../temp_dirs.ts";

Deno.test("loadMnist() reads the full verified MNIST splits from the npm package", async () => {
  const train = await loadMnist("train");
  const test = await loadMnist("test");
  assert.equal(train.count, 60_000);
  assert.equal(test.count, 10_000);
  assert.equal(train.images.length, 60_000 * 784);
  assert.deepEqual([...train.labels.subarray(0, 5)], [5, 0, 4, 1, 9]);
  assert.ok(test.labels.every((l) => l <= 9));
});

Deno.test("readMnistFile() rejects missing and corrupted files, each with its own message", (t) =>
  inTempDir(async (dir) => {
    const file = "t10k-labels-idx1-ubyte";
    const original = await Deno.readFile(mnistPath(file));
    const expectError = async (bytes: Uint8Array | null, message: RegExp) => {
      await Deno.remove(`${dir}/${file}`).catch(() => {});
      if (bytes) await Deno.writeFile(`${dir}/${file}`, bytes);
      await assert.rejects(
        readMnistFile(file, dir),
        (e) => e instanceof MnistDataError && message.test(e.message) && e.message.includes(dir),
      );
    };
    await t.step("missing", () => expectError(null, /not found/));
    await t.step("truncated", () => expectError(original.subarray(0, 5000), /truncated payload/));
    await t.step("wrong magic", () => {
      const bytes = original.slice();
      bytes[0] = 7;
      return expectError(bytes, /bad magic/);
    });
    await t.step("one label changed", () => {
      const bytes = original.slice();
      bytes[100] = (bytes[100]! + 1) % 10;
      return expectError(bytes, /sha256 [0-9a-f]{64} is not the pinned ff7bcfd4/);
    });
  }));

Deno.test("readMnistFile() reads gzipped copies and checks the decompressed bytes", () =>
  inTempDir(async (dir) => {
    const file = "t10k-labels-idx1-ubyte";
    const original = await Deno.readFile(mnistPath(file));
    const gz = await new Response(
      new Blob([original]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer();
    await Deno.writeFile(`${dir}/${file}.gz`, new Uint8Array(gz));
    const parsed = await readMnistFile(file, dir);
    assert.deepEqual(parsed.shape, [10_000]);
    // A copy cut short, or not gzip at all: the error names the .gz file.
    for (const bytes of [new Uint8Array(gz).subarray(0, 1000), new TextEncoder().encode("not gzip")]) {
      await Deno.writeFile(`${dir}/${file}.gz`, bytes);
      await assert.rejects(
        readMnistFile(file, dir),
        (e) => e instanceof MnistDataError && e.message.startsWith(`Cannot read MNIST file "${dir}/${file}.gz": `),
      );
    }
  }));
