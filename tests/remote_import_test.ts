import assert from "node:assert/strict";
import { inTempDir } from "./temp_dirs.ts";
import { runDeno } from "./subprocess.ts";

const ROOT = new URL("../", import.meta.url);

/** Where README's example serves the repository; the test serves it on a free port instead. */
const README_HOST = "127.0.0.1:8000";

/** Two images' two unit embeddings each, as README's example has them. */
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

/** README's remote-import example: its `deno run` arguments and its `user.ts`. */
async function readmeExample(): Promise<{ args: string[]; source: string }> {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const section = readme.split("\n## Using the pieces\n")[1]?.split("\n## ")[0] ?? "";
  const command = section.match(/^npx --yes deno@\S+ (run .*user\.ts)/m)?.[1];
  const source = section.match(/```ts ignore\n([\s\S]*?)```/)?.[1];
  assert.ok(command && source, "README's Using the pieces has no `deno run … user.ts` command or no ts block");
  return { args: command.split(/\s+/), source };
}

Deno.test("README's remote-import example runs as written, by a fresh process without this repo's config", async () => {
  const { args, source } = await readmeExample();
  assert.ok(source.includes(`http://${README_HOST}/mod.ts`), "README's example imports from another URL");
  // What README's server, http-server, sends: video/mp2t for .ts files, which Deno takes for TypeScript.
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const path = new URL(req.url).pathname;
    try {
      const body = await Deno.readFile(new URL(`.${path}`, ROOT));
      return new Response(body, { headers: { "content-type": path.endsWith(".ts") ? "video/mp2t" : "text/plain" } });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  try {
    await inTempDir(async (dir) => {
      const host = `127.0.0.1:${server.addr.port}`;
      await Deno.writeTextFile(`${dir}/user.ts`, source.replaceAll(README_HOST, host));
      // --no-config and --no-lock: a temporary folder inside a Deno project would otherwise take its config.
      const [run, ...rest] = args.map((a) => a.replaceAll(README_HOST, host));
      const out = await runDeno([run!, "--no-config", "--no-lock", ...rest], dir);
      assert.equal(out.code, 0, out.stderr);
      const [backend, images, crops, loss] = out.stdout.trim().split(" ");
      assert.ok(backend === "wasm" || backend === "webgpu", out.stdout);
      assert.equal(Number(images), 10_000);
      assert.equal(Number(crops), 289);
      assert.ok(Math.abs(Number(loss) - jensenReference(Z, 2, 0.5)) < 1e-6, `${loss}`);
    });
  } finally {
    await server.shutdown();
  }
});
