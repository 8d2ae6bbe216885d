import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);

async function deno(args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `deno ${args.join(" ")} failed:\n${stderr}`);
  return stderr;
}

Deno.test("a bundled train.js runs on wasm from its folder alone and trains the same weights", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await deno(["run", "--allow-all", new URL("scripts/bundle.ts", ROOT).pathname, "--out", `${dir}/b`, "train"], dir);
    const files = [...Deno.readDirSync(`${dir}/b`)].map((e) => e.name).sort();
    assert.deepEqual(files, [
      "t10k-images-idx3-ubyte.gz",
      "t10k-labels-idx1-ubyte.gz",
      "tfjs-backend-wasm-simd.wasm",
      "train-images-idx3-ubyte.gz",
      "train-labels-idx1-ubyte.gz",
      "train.js",
    ]);
    const run = ["--profile", "smoke", "--data", "shifted", "--method", "crltac", "--seed", "3", "--train-size", "64"];
    const tiny = [...run, "--batch", "32", "--epochs", "1", "--backend", "wasm"];
    // Run from a folder without deno.json, node_modules or the npm cache in reach of the bundle.
    const [bundled, source] = await Promise.all([
      deno(
        ["run", "--allow-all", "--no-config", `${dir}/b/train.js`, "--mnist", `${dir}/b`, ...tiny, "--out", "a"],
        dir,
      ),
      deno(["run", "--allow-all", new URL("scripts/train.ts", ROOT).pathname, ...tiny, "--out", "c"], dir),
    ]);
    const hash = (log: string) => log.match(/on wasm; weights sha256 ([0-9a-f]{64})/)?.[1];
    assert.ok(hash(bundled), bundled);
    assert.equal(hash(bundled), hash(source));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task bundle rejects an unknown script with a usage error", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL("scripts/bundle.ts", ROOT).pathname, "--out", "/nonexistent/x", "reproduce"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 2);
  assert.match(new TextDecoder().decode(out.stderr), /Unknown script reproduce/);
});
