import assert from "node:assert/strict";
import { fitProbe, PROBE_PROTOCOLS, probeAccuracy } from "../../src/eval/probe.ts";
import { readJson } from "../../src/study/results.ts";
import { tf } from "../../src/tf.ts";

await tf.setBackend("wasm");

/**
 * Unit vectors on one common direction with their class 0.03 off it: features as collapsed as
 * SimCLR's head on shifted MNIST. The same numbers as `synthetic_set()` in scripts/sklearn_probe.py.
 */
function collapsedSet(n: number, dim: number, classes: number, offset: number, scale = 1) {
  const noise = (i: number, j: number) => {
    const v = Math.sin((i + offset) * 12.9898 + j * 78.233) * 43758.5453;
    return v - Math.floor(v) - 0.5;
  };
  const labels = Uint8Array.from({ length: n }, (_, i) => Math.floor((noise(i, dim) + 0.5) * classes));
  const x = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const row = Array.from(
      { length: dim },
      (_, j) => (j === dim - 1 ? 1 : 0) + 0.03 * ((j === labels[i] ? 1 : 0) + 1.5 * noise(i, j)),
    );
    const norm = Math.hypot(...row);
    row.forEach((v, j) => x[i * dim + j] = Math.fround(v / norm) * scale);
  }
  return { x, labels };
}

interface SklearnFit {
  readonly accuracy: number;
  readonly iterations: number;
}

interface SklearnFixture {
  readonly probes: Record<"standardized" | "paper", SklearnFit>;
  readonly paperScaled30: SklearnFit;
}

const sklearn = (await readJson<SklearnFixture>(new URL("../../fixtures/sklearn-probe.json", import.meta.url)))!;

Deno.test("both probe protocols give scikit-learn's accuracy on collapsed features (fixtures/sklearn-probe.json)", async () => {
  const train = collapsedSet(1000, 20, 10, 0), test = collapsedSet(1000, 20, 10, 100_000);
  const accuracy: Record<string, number> = {};
  for (const protocol of ["standardized", "paper"] as const) {
    const fit = await fitProbe(train.x, train.labels, 20, PROBE_PROTOCOLS[protocol]);
    accuracy[protocol] = await probeAccuracy(fit, test.x, test.labels);
    assert.ok(
      Math.abs(accuracy[protocol]! - sklearn.probes[protocol].accuracy) <= 0.005,
      `${protocol}: ${accuracy[protocol]} here, ${sklearn.probes[protocol].accuracy} in scikit-learn`,
    );
    if (protocol === "paper") assert.equal(fit.iterations, sklearn.probes.paper.iterations);
  }
  // What the protocols differ in: on features this close together the C = 1 penalty, not the data,
  // decides the unstandardised fit.
  assert.ok(accuracy.standardized! - accuracy.paper! > 0.2, JSON.stringify(accuracy));
});

Deno.test("stopped at scikit-learn's max_iter = 100, the paper's protocol says so and gives scikit-learn's accuracy", async () => {
  const train = collapsedSet(1000, 20, 10, 0, 30), test = collapsedSet(1000, 20, 10, 100_000, 30);
  const fit = await fitProbe(train.x, train.labels, 20, PROBE_PROTOCOLS.paper);
  assert.equal(fit.iterations, sklearn.paperScaled30.iterations);
  assert.equal(fit.stopped, "maxIter");
  assert.equal(fit.converged, false);
  const accuracy = await probeAccuracy(fit, test.x, test.labels);
  assert.ok(Math.abs(accuracy - sklearn.paperScaled30.accuracy) <= 0.005, `${accuracy}`);
});
