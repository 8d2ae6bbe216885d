import assert from "node:assert/strict";
import { exists } from "../src/files.ts";
import { inTempDir } from "./temp_dirs.ts";

const INTERRUPT = new URL("../src/interrupt.ts", import.meta.url).href;

/**
 * A process that defers Ctrl-C, runs `step` until asked to stop (at most 10 s), then writes
 * `requested` (holding the steps it ran after `ready`), and `cleaned` when its cleanup runs.
 */
async function deferring(
  dir: string,
  step = "await new Promise((r) => setTimeout(r, 20));",
): Promise<Deno.ChildProcess> {
  const script = `${dir}/defer.ts`;
  await Deno.writeTextFile(
    script,
    `import { deferInterrupt, onInterrupt } from "${INTERRUPT}";\n` +
      `const dir = Deno.args[0]!;\n` +
      `onInterrupt(() => Deno.writeTextFileSync(dir + "/cleaned", ""));\n` +
      `const stop = deferInterrupt("stopping at the next step");\n` +
      `Deno.writeTextFileSync(dir + "/ready", "");\n` +
      `const start = Date.now();\n` +
      `let steps = 0;\n` +
      `while (!(await stop.requested()) && Date.now() - start < 10_000) {\n${step}\nsteps++;\n}\n` +
      `Deno.writeTextFileSync(dir + "/requested", String(steps));\n` +
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

async function until(path: string): Promise<void> {
  while (!(await exists(path))) await new Promise((r) => setTimeout(r, 20));
}

Deno.test("a deferred Ctrl-C asks the work to stop; a second one, or SIGTERM, interrupts at once", (t) =>
  inTempDir(async (root) => {
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
    await t.step("Ctrl-C during work that never waits on the event loop", async () => {
      // Each step computes for 50 ms and awaits only settled promises: the runtime never parks on
      // its own, so the signal is seen only because asking for it lets the runtime park.
      const dir = await Deno.makeTempDir({ dir: root });
      const busy = "for (const t = Date.now(); Date.now() - t < 50;) await Promise.resolve();";
      const child = await deferring(dir, busy);
      await new Promise((r) => setTimeout(r, 500));
      child.kill("SIGINT");
      await until(`${dir}/requested`);
      const steps = Number(await Deno.readTextFile(`${dir}/requested`));
      assert.ok(steps < 40, `Ctrl-C was seen after ${steps} steps of 50 ms (sent after ~10)`);
      child.kill("SIGINT");
      assert.equal((await child.status).code, 130);
      await child.stderr.cancel();
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
  }));
