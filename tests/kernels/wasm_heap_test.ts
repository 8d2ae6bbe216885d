import assert from "node:assert/strict";
import { UserError } from "../../src/cli.ts";
import { resolveConfig } from "../../src/config.ts";
import { exists } from "../../src/files.ts";
import { checkFitsWasm, largestWasmBatch, pStepWasmBytes, WASM_PSTEP_BUDGET } from "../../src/kernels/wasm_heap.ts";
import { inTempDir } from "../temp_dirs.ts";
import { runDeno, scriptPath } from "../subprocess.ts";

const paper = (policyEstimator: "exact-own" | "exact-numerator" | "sampled", batch = 256) =>
  resolveConfig("paper", "shifted", "crltac", 0, { policyEstimator, batch });

Deno.test("the P-step's wasm estimate follows the measured heaps, and refuses what ran out of wasm's memory", () => {
  // The wasm heap after one P-step in a fresh process, GiB (src/kernels/wasm_heap.ts).
  const measured = [
    ["exact-own", 128, 1.72],
    ["exact-own", 160, 2.46],
    ["exact-own", 192, 3.14],
    ["exact-numerator", 256, 2.12],
    ["exact-numerator", 384, 3.22],
  ] as const;
  for (const [estimator, batch, gib] of measured) {
    const estimate = pStepWasmBytes(paper(estimator, batch)) / 2 ** 30;
    assert.ok(Math.abs(estimate - gib) < 0.1 * gib, `${estimator} at ${batch}: ${estimate} GiB, not ${gib}`);
  }
  // Died at 256 (exact-own) and 512 (exact-numerator); the exact-numerator estimator trained at 256.
  assert.ok(pStepWasmBytes(paper("exact-own", 256)) > WASM_PSTEP_BUDGET);
  assert.ok(pStepWasmBytes(paper("exact-numerator", 512)) > WASM_PSTEP_BUDGET);
  assert.equal(largestWasmBatch(paper("exact-numerator")), 256);
  const exact = largestWasmBatch(paper("exact-own"));
  assert.ok(exact >= 128 && exact < 208, String(exact));
  assert.equal(pStepWasmBytes(paper("sampled", 4096)), 0);
  // Original MNIST's 28×28 images have 9 crops: the paper's batch is far from the limit.
  assert.ok(
    pStepWasmBytes(resolveConfig("paper", "original", "crltac", 0, { policyEstimator: "exact-own" })) < 2 ** 30,
  );
});

Deno.test("checkFitsWasm() refuses the exact-own estimator at the paper's batch on wasm, naming what fits", () => {
  assert.throws(
    () => checkFitsWasm(paper("exact-own"), "wasm"),
    (e: unknown) =>
      e instanceof UserError &&
      e.message ===
        `--policy-estimator exact-own at --batch 256: its P-step needs about 4.8 GiB, past the 2.5 GiB the ` +
          `wasm backend has for it; on wasm use --batch ${largestWasmBatch(paper("exact-own"))} or less, ` +
          "--policy-estimator exact-numerator or sampled, or a GPU (--backend webgpu)",
  );
  checkFitsWasm(paper("exact-own"), "webgpu");
  checkFitsWasm(paper("exact-numerator"), "wasm");
  checkFitsWasm(paper("exact-own", largestWasmBatch(paper("exact-own"))), "wasm");
});

Deno.test("train refuses the exact-own estimator at the paper's batch on wasm in one line, before writing anything", () =>
  inTempDir(async (dir) => {
    const out = `${dir}/run`;
    const args = ["--profile", "paper", "--data", "shifted", "--method", "crltac", "--seed", "0"];
    const r = await runDeno([
      "run",
      "--allow-all",
      scriptPath("train"),
      ...args,
      ...["--policy-estimator", "exact-own", "--train-size", "512", "--epochs", "1", "--backend", "wasm", "--out", out],
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^error: --policy-estimator exact-own at --batch 256: its P-step needs about [\d.]+ GiB, .*\n$/,
    );
    assert.equal(await exists(out), false);
  }));
