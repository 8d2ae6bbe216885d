import assert from "node:assert/strict";

import { inTempDir } from "./temp_dirs.ts";
import { runDeno, scriptPath } from "./subprocess.ts";

async function deno(args: string[], cwd: string): Promise<string> {
  const { code, stderr } = await runDeno(args, cwd);
  assert.equal(code, 0, `deno ${args.join(" ")} failed:\n${stderr}`);
  return stderr;
}

Deno.test("a bundled train.js runs on wasm from its folder alone and trains the same weights", () =>
  inTempDir(async (dir) => {
    await deno(["run", "--allow-all", scriptPath("bundle"), "--out", `${dir}/b`, "train"], dir);
    const files = [...Deno.readDirSync(`${dir}/b`)].map((e) => e.name).sort();
    assert.deepEqual(files, [
      ".crl-tac.json",
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
      deno(["run", "--allow-all", scriptPath("train"), ...tiny, "--out", "c"], dir),
    ]);
    const hash = (log: string) => log.match(/on wasm; weights sha256 ([0-9a-f]{64})/)?.[1];
    assert.ok(hash(bundled), bundled);
    assert.equal(hash(bundled), hash(source));
  }));

Deno.test("deno task bundle rejects an unknown script with a usage error", async () => {
  const out = await runDeno(["run", "--allow-all", scriptPath("bundle"), "--out", "/nonexistent/x", "reproduce"]);
  assert.equal(out.code, 2);
  assert.match(out.stderr, /^error: reproduce: no such script to bundle/);
});
