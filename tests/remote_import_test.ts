import assert from "node:assert/strict";
import { runDeno } from "./subprocess.ts";

const ROOT = new URL("../", import.meta.url);

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
const z = tf.tensor2d([[1, 0], [0.6, 0.8], [0, 1], [0.8, 0.6]]);
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
    assert.ok(Number.isFinite(result.loss));
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
