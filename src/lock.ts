/**
 * A folder's lock: one process at a time writes a run folder or a study folder, so that two
 * writers never leave one run's checkpoint beside another's log. The lock is the file `.lock`,
 * created complete or not at all (written under another name, then hard-linked, which fails if
 * `.lock` exists), naming its holder: process id, host, start time and command. It is released
 * when the work ends, on any exit and on Ctrl-C; a lock whose process is gone (killed with -9) is
 * taken over with a line saying so.
 *
 * @module
 */

import { UserError } from "./cli.ts";
import { onInterrupt } from "./interrupt.ts";

/** Who holds a lock, as `.lock` records it. */
export interface LockHolder {
  readonly pid: number;
  readonly hostname: string;
  /** When the lock was taken (ISO 8601). */
  readonly since: string;
  readonly command: string;
  /** The process's start time in clock ticks since boot (Linux), which tells a reused pid apart. */
  readonly processStart: string | null;
}

/** A held lock. */
export interface FolderLock {
  /** Removes the lock (once; later calls do nothing). */
  release(): void;
}

/**
 * A process's state and start time from /proc (fields 3 and 22 of its stat), or null where there
 * is no such process or no /proc.
 */
function processStat(pid: number): { state: string; start: string } | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name (field 2) may hold spaces and parentheses: count from the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields.length > 19 ? { state: fields[0]!, start: fields[19]! } : null;
  } catch {
    return null;
  }
}

/** Whether the holder's process still runs, or "unknown" (another host's, or no way to ask here). */
function isAlive(holder: LockHolder): boolean | "unknown" {
  if (holder.hostname !== Deno.hostname()) return "unknown";
  if (Deno.build.os === "linux") {
    const stat = processStat(holder.pid);
    // A zombie has exited and writes nothing; it stays in /proc until reaped, which an init that
    // reaps slowly (or never) delays: a run killed with its parent would otherwise stay "in use".
    return stat !== null && stat.state !== "Z" && stat.state !== "X" &&
      (holder.processStart === null || stat.start === holder.processStart);
  }
  try {
    return new Deno.Command("kill", { args: ["-0", String(holder.pid)], stderr: "null" }).outputSync().success;
  } catch {
    return "unknown";
  }
}

function readHolder(path: string): LockHolder | null {
  try {
    const h = JSON.parse(Deno.readTextFileSync(path));
    return Number.isInteger(h?.pid) && typeof h.hostname === "string" ? h as LockHolder : null;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw e;
    return null;
  }
}

function readHolderOrNull(path: string): LockHolder | null {
  try {
    return readHolder(path);
  } catch {
    return null;
  }
}

/** Who holds a lock, in words: `process 123 on host since … (deno task train …)`. */
export function describeHolder(h: LockHolder): string {
  return `process ${h.pid} on ${h.hostname} since ${h.since} (${h.command})`;
}

/** The process that holds `dir`'s lock and is running (or cannot be checked), or null. */
export function liveHolder(dir: string): LockHolder | null {
  const holder = readHolderOrNull(`${dir}/.lock`);
  return holder && isAlive(holder) !== false ? holder : null;
}

/**
 * Takes the lock of `dir` (created if needed).
 *
 * @param what What the folder is, for messages ("run folder").
 * @param log Where the line about a recovered stale lock goes. @default stderr
 * @throws {UserError} When another live process holds it, naming that process.
 */
export async function lockFolder(
  dir: string,
  what: string,
  log: (line: string) => void = console.error,
): Promise<FolderLock> {
  await Deno.mkdir(dir, { recursive: true });
  const path = `${dir}/.lock`;
  const holder: LockHolder = {
    pid: Deno.pid,
    hostname: Deno.hostname(),
    since: new Date().toISOString(),
    command: ["deno", ...Deno.args].join(" ").slice(0, 300),
    processStart: processStat(Deno.pid)?.start ?? null,
  };
  const candidate = `${dir}/.lock.${Deno.pid}.candidate`;
  const aside = `${path}.stale-${Deno.pid}`;
  // Whatever of ours is there: listening starts before the lock can exist, since a signal
  // between taking it and listening would end the process with the lock left behind.
  const removeOurs = () => {
    for (const file of [candidate, aside]) {
      try {
        Deno.removeSync(file);
      } catch { /* not there */ }
    }
    try {
      // Only our own: a lock taken over from us (we were thought dead) is not ours to remove.
      if (readHolder(path)?.pid === Deno.pid) Deno.removeSync(path);
    } catch { /* already gone */ }
  };
  const forget = onInterrupt(removeOurs);
  try {
    await Deno.writeTextFile(candidate, JSON.stringify(holder) + "\n");
    for (;;) {
      try {
        await Deno.link(candidate, path);
        break;
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      }
      let other: LockHolder | null;
      try {
        other = readHolder(path);
      } catch {
        continue; // released between the two calls
      }
      const alive = other ? isAlive(other) : false;
      if (alive === "unknown") {
        throw new UserError(
          `${dir} is in use by ${describeHolder(other!)}, which cannot be checked from here: ` +
            `if it is no longer running, remove ${path}`,
        );
      }
      if (alive) {
        throw new UserError(
          `${dir} is in use by ${describeHolder(other!)}: wait for it to finish or stop it, or choose another folder`,
        );
      }
      // Moved aside before it is removed, so that of two processes finding the same stale lock
      // only one removes it, and neither removes the lock the other has just taken.
      try {
        await Deno.rename(path, aside);
      } catch {
        continue; // another process moved it first
      }
      const moved = readHolderOrNull(aside);
      if (moved?.pid !== other?.pid || moved?.since !== other?.since) {
        await Deno.link(aside, path).catch(() => {}); // a fresh lock: put it back
        await Deno.remove(aside);
        continue;
      }
      await Deno.remove(aside);
      log(
        other
          ? `${what} ${dir}: taking over the lock of ${describeHolder(other)}, which is no longer running`
          : `${what} ${dir}: removing an unreadable lock file ${path}`,
      );
    }
  } catch (e) {
    forget();
    throw e;
  } finally {
    await Deno.remove(candidate).catch(() => {});
  }
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    forget();
    globalThis.removeEventListener("unload", release);
    removeOurs();
  };
  // Deno.exit() (an error's exit code) skips `finally` blocks but dispatches "unload".
  globalThis.addEventListener("unload", release);
  return { release };
}
