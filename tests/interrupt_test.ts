import assert from "node:assert/strict";

const INTERRUPT = new URL("../src/interrupt.ts", import.meta.url).href;

/** A process that defers Ctrl-C, writes `requested` when asked to stop, and `cleaned` when its cleanup runs. */
async function deferring(dir: string): Promise<Deno.ChildProcess> {
  const script = `${dir}/defer.ts`;
  await Deno.writeTextFile(
    script,
    `import { deferInterrupt, onInterrupt } from "${INTERRUPT}";\n` +
      `const dir = Deno.args[0]!;\n` +
      `onInterrupt(() => Deno.writeTextFileSync(dir + "/cleaned", ""));\n` +
      `const stop = deferInterrupt("stopping at the next step");\n` +
      `Deno.writeTextFileSync(dir + "/ready", "");\n` +
      `while (!stop.requested) await new Promise((r) => setTimeout(r, 20));\n` +
      `Deno.writeTextFileSync(dir + "/requested", "");\n` +
      `await new Promise((r) => setTimeout(r, 60_000));\n`,
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", script, dir],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  await until(`${dir}/ready`);
  return child;
}

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

async function until(path: string): Promise<void> {
  while (!(await exists(path))) await new Promise((r) => setTimeout(r, 20));
}

Deno.test("a deferred Ctrl-C asks the work to stop; a second one, or SIGTERM, interrupts at once", async (t) => {
  const root = await Deno.makeTempDir();
  try {
    await t.step("Ctrl-C twice", async () => {
      const dir = await Deno.makeTempDir({ dir: root });
      const child = await deferring(dir);
      child.kill("SIGINT");
      await until(`${dir}/requested`);
      assert.equal(await exists(`${dir}/cleaned`), false, "the first Ctrl-C runs no cleanup");
      child.kill("SIGINT");
      assert.equal((await child.status).code, 130);
      assert.equal(await exists(`${dir}/cleaned`), true);
      assert.match(await new Response(child.stderr).text(), /^stopping at the next step\n$/);
    });
    await t.step("SIGTERM", async () => {
      const dir = await Deno.makeTempDir({ dir: root });
      const child = await deferring(dir);
      child.kill("SIGTERM");
      assert.equal((await child.status).code, 130);
      assert.equal(await exists(`${dir}/requested`), false);
      assert.equal(await exists(`${dir}/cleaned`), true);
      await child.stderr.cancel();
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
