import assert from "node:assert/strict";

import { UserError } from "../src/cli.ts";
import { exists } from "../src/files.ts";
import { lockFolder, type LockHolder } from "../src/lock.ts";
import { inTempDir } from "./temp_dirs.ts";
import { runDeno } from "./subprocess.ts";

/** The pid of a process that has ended. */
async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

/**
 * A zombie: a process that has exited but is not yet reaped, as a run killed with its parent is
 * until init reaps it. Its parent (which never waits for it) ends with `end`. Linux only.
 */
async function zombie(): Promise<{ pid: number; end: () => Promise<void> }> {
  const parent = new Deno.Command("sh", { args: ["-c", "sleep 0 & echo $!; exec sleep 60"], stdout: "piped" })
    .spawn();
  const reader = parent.stdout.getReader();
  const pid = Number(new TextDecoder().decode((await reader.read()).value).trim());
  reader.releaseLock();
  const state = () =>
    Deno.readTextFile(`/proc/${pid}/stat`).then((s) => s.slice(s.lastIndexOf(")") + 2, s.lastIndexOf(")") + 3));
  while (await state() !== "Z") await new Promise((r) => setTimeout(r, 5));
  return {
    pid,
    end: async () => {
      parent.kill("SIGKILL");
      await parent.status;
      await parent.stdout.cancel();
    },
  };
}

function holder(over: Partial<LockHolder>): LockHolder {
  return {
    pid: Deno.pid,
    hostname: Deno.hostname(),
    since: "2026-01-01T00:00:00.000Z",
    command: "deno task train",
    processStart: null,
    ...over,
  };
}

Deno.test("lockFolder() lets one holder in, names it to the next, and lets the next in once released", () =>
  inTempDir(async (dir) => {
    const lock = await lockFolder(`${dir}/run`, "run folder");
    await assert.rejects(
      lockFolder(`${dir}/run`, "run folder"),
      (e: unknown) =>
        e instanceof UserError &&
        e.message.startsWith(`${dir}/run is in use by process ${Deno.pid} on ${Deno.hostname()} since `),
    );
    lock.release();
    lock.release();
    assert.deepEqual([...Deno.readDirSync(`${dir}/run`)], []);
    (await lockFolder(`${dir}/run`, "run folder")).release();
  }));

Deno.test("lockFolder() takes over the lock of a process that is gone, or whose pid was reused, and says so", (t) =>
  inTempDir(async (dir) => {
    const linux = Deno.build.os === "linux";
    const dead = linux ? await zombie() : null;
    try {
      const cases: [string, LockHolder | string][] = [
        ["a dead process", holder({ pid: await deadPid() })],
        ["a reused pid (another start time)", holder({ processStart: "1" })],
        ["a zombie (exited, not yet reaped)", holder({ pid: dead?.pid ?? 0 })],
        ["an unreadable lock file", "{"],
      ];
      for (const [name, content] of cases) {
        await t.step(name, async () => {
          if (!linux && (name.startsWith("a reused") || name.startsWith("a zombie"))) return;
          await Deno.writeTextFile(`${dir}/.lock`, typeof content === "string" ? content : JSON.stringify(content));
          const lines: string[] = [];
          const lock = await lockFolder(dir, "run folder", (l) => lines.push(l));
          assert.equal(lines.length, 1);
          assert.match(
            lines[0]!,
            new RegExp(`^run folder ${dir}: (taking over the lock of process|removing an unreadable)`),
          );
          assert.equal(JSON.parse(await Deno.readTextFile(`${dir}/.lock`)).pid, Deno.pid);
          lock.release();
        });
      }
    } finally {
      await dead?.end();
    }
  }));

Deno.test("lockFolder() refuses a lock held on another host, which it cannot check", () =>
  inTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/.lock`, JSON.stringify(holder({ hostname: "elsewhere", pid: 12 })));
    await assert.rejects(
      lockFolder(dir, "run folder"),
      (e: unknown) =>
        e instanceof UserError && e.message.startsWith(`${dir} is in use by process 12 on elsewhere since `) &&
        e.message.endsWith(`which cannot be checked from here: if it is no longer running, remove ${dir}/.lock`),
    );
  }));

Deno.test("a lock is released when its process exits with an error code or is interrupted", (t) =>
  inTempDir(async (dir) => {
    const lockModule = new URL("../src/lock.ts", import.meta.url).href;
    const script = `${dir}/hold.ts`;
    await Deno.writeTextFile(
      script,
      `import { lockFolder } from "${lockModule}";\nawait lockFolder(Deno.args[0]!, "run folder");\n` +
        `if (Deno.args[1] === "exit") Deno.exit(3);\nawait new Promise((r) => setTimeout(r, 60_000));\n`,
    );
    await t.step("Deno.exit(3)", async () => {
      const r = await runDeno(["run", "--allow-all", script, `${dir}/a`, "exit"]);
      assert.equal(r.code, 3, r.stderr);
      assert.equal(await exists(`${dir}/a/.lock`), false);
    });
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      await t.step(signal, async () => {
        const child = new Deno.Command(Deno.execPath(), {
          args: ["run", "--allow-all", script, `${dir}/${signal}`],
          stdout: "null",
          stderr: "null",
        }).spawn();
        const lock = `${dir}/${signal}/.lock`;
        // Signalled as soon as the lock exists: the process must be listening before it takes it.
        while (!(await exists(lock))) await new Promise((r) => setTimeout(r, 1));
        child.kill(signal);
        assert.equal((await child.status).code, 130);
        assert.equal(await exists(lock), false);
      });
    }
  }));

Deno.test("of processes that find the same stale lock at once, exactly one takes it", () =>
  inTempDir(async (dir) => {
    const lockModule = new URL("../src/lock.ts", import.meta.url).href;
    const script = `${dir}/take.ts`;
    // A process that takes the lock says so and holds it until told to let go, so that however
    // slowly the others start (a loaded machine), they all meet a live holder.
    await Deno.writeTextFile(
      script,
      `import { lockFolder } from "${lockModule}";\nawait lockFolder(Deno.args[0]!, "run folder", () => {});\n` +
        `await Deno.writeTextFile(\`\${Deno.args[1]}/taken-\${Deno.pid}\`, "");\n` +
        `while (!(await Deno.stat(\`\${Deno.args[1]}/release\`).then(() => true, () => false))) {\n` +
        `  await new Promise((r) => setTimeout(r, 50));\n}\n`,
    );
    await Deno.mkdir(`${dir}/run`);
    await Deno.mkdir(`${dir}/signals`);
    await Deno.writeTextFile(`${dir}/run/.lock`, JSON.stringify(holder({ pid: await deadPid() })));
    let exited = 0;
    const children = Array.from({ length: 4 }, () =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-all", script, `${dir}/run`, `${dir}/signals`],
        stdout: "null",
        stderr: "null",
      }).spawn().status.then((s) => {
        exited++;
        return s.code;
      }));
    // Every process has either given up or taken the lock (a broken lock lets several take it).
    while (exited + [...Deno.readDirSync(`${dir}/signals`)].length < 4) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await Deno.writeTextFile(`${dir}/signals/release`, "");
    const codes = await Promise.all(children);
    assert.equal(codes.filter((c) => c === 0).length, 1, `exit codes ${codes}`);
    assert.deepEqual([...Deno.readDirSync(`${dir}/run`)], [], "no lock or stale file left");
  }));
