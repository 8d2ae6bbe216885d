import assert from "node:assert/strict";

import { runDeno, scriptPath } from "../subprocess.ts";

Deno.test("deno task bench --json --check --kernels reports every step, checked against cpu, with its kernels", async () => {
  const out = await runDeno([
    "run",
    "--allow-all",
    scriptPath("bench"),
    "--json",
    "--check",
    "--kernels",
    "--reps",
    "1",
    "--backend",
    "wasm",
    "--images",
    "8",
  ]);
  const stderr = out.stderr;
  assert.equal(out.code, 0, stderr);
  const report = JSON.parse(out.stdout);
  assert.equal(report.backend, "wasm");
  assert.equal(report.checkBackend, "cpu");
  assert.equal(typeof report.versions.tfjs, "string");
  assert.deepEqual(Object.keys(report.steps).sort(), ["all_crops", "h_step", "p_step", "p_step_exact_own", "probe"]);
  for (const [name, step] of Object.entries<Record<string, number | null>>(report.steps)) {
    for (const key of ["ms", "imagesPerS", "gflops"]) {
      assert.ok(step[key]! > 0 && Number.isFinite(step[key]), `${name}.${key} = ${step[key]}`);
    }
    assert.ok("baselineMs" in step, name);
    if (name !== "probe") assert.equal(step.images, 8, name);
    if (name === "probe") continue;
    assert.ok(step.checkError! <= report.checkTolerance, `${name} check error ${step.checkError}`);
    const checks = report.checks.filter((c: { step: string }) => c.step === name);
    // The exact-own P-step runs P(T|X)'s fast paths, checked under p_step, and the all-crop pass.
    const paths = name === "h_step" || name === "p_step" ? 5 : 0;
    assert.ok(checks.length >= paths, `${name}: ${checks.length} fast paths checked`);
    for (const c of checks) assert.ok(c.error <= report.checkTolerance, `${name} ${c.name}: ${c.error}`);
    const kernels = report.kernels[name] as { kernel: string; calls: number; ms: number }[];
    assert.ok(kernels.length > 3 && kernels.every((k) => k.calls >= 1 && k.ms >= 0), name);
    assert.ok(kernels.some((k) => k.kernel === "Conv2D"), `${name} kernels name no Conv2D`);
  }
  // Stock tfjs cannot train convolutions on wasm: the baseline says so instead of a time.
  assert.equal(report.steps.h_step.baselineMs, null);
  assert.match(report.steps.h_step.baselineNote, /Conv2DBackpropFilter/);
});
