/**
 * The layering of src/: data → kernels (the backends' workarounds) → model → objective → train →
 * eval → study → report (and bench, a tool beside report) → jobs (the commands' work, for the
 * scripts and a study's child processes) and demo (the browser page, on top of everything), each folder importing only
 * from folders below it, read from the import
 * statements themselves so that a new import against the order fails here.
 */

import assert from "node:assert/strict";

const SRC = new URL("../src/", import.meta.url);

/**
 * Levels, lowest first. Modules at src/'s root are shared by every folder: the tfjs handle,
 * command-line parsing, progress and memory readings, interrupt handling below everything, the
 * backend choice, atomic writes, folder locks and JSON shape checks (which raise the command
 * line's errors) above them, and the run configuration (which names the datasets) just above data.
 */
const LEVELS: Readonly<Record<string, number>> = {
  "tf.ts": 0,
  "cli.ts": 0,
  "progress.ts": 0,
  "memory.ts": 0,
  "interrupt.ts": 0,
  "shape.ts": 1,
  "backend.ts": 1,
  "files.ts": 1,
  "lock.ts": 1,
  data: 2,
  "config.ts": 3,
  kernels: 4,
  model: 5,
  objective: 6,
  train: 7,
  eval: 8,
  study: 9,
  report: 10,
  bench: 10,
  jobs: 11,
  demo: 11,
};

/** The unit a module belongs to: its folder under src/, or its own name at the root. */
function unitOf(path: string): string {
  return path.split("/")[0]!;
}

/** Every relative import (static, `export … from`, and dynamic) of a module's source. */
export function relativeImports(source: string): string[] {
  const found: string[] = [];
  for (
    const m of source.matchAll(/(?:import|export)\s[^;]*?from\s*["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/g)
  ) {
    found.push((m[1] ?? m[2])!);
  }
  return found;
}

/** `[from, to]` module paths under src/ for every import between two different units. */
async function crossImports(): Promise<[string, string][]> {
  const edges: [string, string][] = [];
  const walk = async (dir: URL, prefix: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = prefix + entry.name;
      if (entry.isDirectory) await walk(new URL(`${entry.name}/`, dir), `${path}/`);
      else if (entry.name.endsWith(".ts")) {
        for (const spec of relativeImports(await Deno.readTextFile(new URL(entry.name, dir)))) {
          const target = new URL(spec, new URL(entry.name, dir)).pathname.slice(SRC.pathname.length);
          if (unitOf(target) !== unitOf(path)) edges.push([path, target]);
        }
      }
    }
  };
  await walk(SRC, "");
  return edges;
}

/** The imports that go up or sideways in the order, as `from → to` lines. */
export function violations(edges: readonly [string, string][]): string[] {
  return edges.filter(([from, to]) => {
    const a = LEVELS[unitOf(from)], b = LEVELS[unitOf(to)];
    if (a === undefined || b === undefined) return true;
    return b >= a;
  }).map(([from, to]) => `${from} → ${to}`);
}

Deno.test("every module of src/ imports only from the layers below its own", async () => {
  const edges = await crossImports();
  assert.ok(edges.length > 50, `only ${edges.length} imports between folders found: is the scan broken?`);
  assert.deepEqual(violations(edges), []);
});

Deno.test("the layer check catches an import that goes up, sideways, or into an unknown folder", () => {
  assert.deepEqual(violations([["train/trainer.ts", "eval/crop_stats.ts"]]), ["train/trainer.ts → eval/crop_stats.ts"]);
  assert.deepEqual(violations([["report/charts.ts", "bench/steps.ts"]]), ["report/charts.ts → bench/steps.ts"]);
  assert.deepEqual(violations([["plots/x.ts", "data/crops.ts"]]), ["plots/x.ts → data/crops.ts"]);
  assert.deepEqual(violations([["eval/evaluate.ts", "train/checkpoint.ts"]]), []);
  assert.deepEqual(violations([["report/charts.ts", "demo/protocol.ts"]]), ["report/charts.ts → demo/protocol.ts"]);
  assert.deepEqual(violations([["demo/worker.ts", "train/session.ts"]]), []);
  assert.deepEqual(
    relativeImports(
      `import { a } from "../x.ts";\nexport * from "./y.ts";\nimport type {\n  B,\n} from "../z.ts";\nawait import("./w.ts");`,
    ),
    ["../x.ts", "./y.ts", "../z.ts", "./w.ts"],
  );
});
