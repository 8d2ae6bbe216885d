import assert from "node:assert/strict";
import { runDeno } from "./subprocess.ts";

const ROOT = new URL("../", import.meta.url);

/** Two images' two unit embeddings each. */
const Z = [[1, 0], [0.6, 0.8], [0, 1], [0.8, 0.6]];

/**
 * The Jensen loss from its definition, in float64: minus the mean over samples of β times the
 * mean similarity to the other crops of its image, less the log-mean-exp of β times the
 * similarity to every other sample.
 */
function jensenReference(z: number[][], m: number, beta: number): number {
  const dot = (a: number[], b: number[]) => a[0]! * b[0]! + a[1]! * b[1]!;
  const terms = z.map((zi, i) => {
    const own = z.filter((_, j) => j !== i && Math.floor(j / m) === Math.floor(i / m));
    const others = z.filter((_, j) => j !== i);
    const numerator = beta * own.reduce((s, zj) => s + dot(zi, zj), 0) / own.length;
    return numerator - Math.log(others.reduce((s, zk) => s + Math.exp(beta * dot(zi, zk)), 0) / others.length);
  });
  return -terms.reduce((a, b) => a + b, 0) / z.length;
}

Deno.test("mod.ts works when imported over HTTP by a fresh process without this repo's config", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    try {
      const body = await Deno.readFile(new URL(`.${path}`, ROOT));
      return new Response(body, { headers: { "content-type": "application/typescript" } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  const dir = await Deno.makeTempDir();
  try {
    const url = `http://127.0.0.1:${server.addr.port}/mod.ts`;
    await Deno.writeTextFile(
      `${dir}/user.ts`,
      `import { cropGrid, jensenLoss, tf, useBackend } from "${url}";
const info = await useBackend("wasm");
const z = tf.tensor2d(${JSON.stringify(Z)});
console.log(JSON.stringify({ crops: cropGrid(84).count, backend: info.backend, loss: jensenLoss(z, 2, 0.5).dataSync()[0] }));
`,
    );
    const out = await runDeno(
      ["run", "--allow-all", "--no-config", "--no-lock", "--reload=http://127.0.0.1", "user.ts"],
      dir,
    );
    assert.equal(out.code, 0, out.stderr);
    const result = JSON.parse(out.stdout);
    assert.equal(result.crops, 289);
    assert.equal(result.backend, "wasm");
    assert.ok(Math.abs(result.loss - jensenReference(Z, 2, 0.5)) < 1e-6, `${result.loss}`);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
