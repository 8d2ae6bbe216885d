/**
 * Writing files so that a crash, a full disk or a read-only folder leaves nothing half-written:
 * each file (or folder of files) goes to a temporary name beside its final one and is renamed
 * over it once complete (a rename within a folder is atomic), and what a killed writer left
 * behind is removed by the next one.
 *
 * @module
 */

import { isUserFsError, UserError } from "./cli.ts";

/** The marker of a file being written: `<name>.tmp-<pid>`. */
const TMP = ".tmp-";

/**
 * A filesystem error as the user's one line naming `path` where the disk is full or read-only
 * (exit 2); any other error as it is.
 */
export function fsError(e: unknown, path: string): unknown {
  if (!isUserFsError(e)) return e;
  // Deno's message names the failed call ("…(os error 28): write"), not always the file.
  return new UserError(`Cannot write ${path}: ${(e as Error).message.replace(/\s*\(os error \d+\).*$/, "")}`);
}

/**
 * Writes `bytes` to `path` atomically: to a temporary file in the same folder, flushed to disk,
 * then renamed over `path`. On failure the temporary file is removed and `path` is untouched.
 *
 * @throws {UserError} When the disk is full or read-only, naming `path`.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}${TMP}${Deno.pid}`;
  try {
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.syncData();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw fsError(e, path);
  }
}

/** Writes `text` to `path` atomically ({@linkcode writeFileAtomic}). */
export function writeTextAtomic(path: string, text: string): Promise<void> {
  return writeFileAtomic(path, new TextEncoder().encode(text));
}

/**
 * Removes the temporary files a killed writer left in `dir` (not in its subfolders). Only for a
 * folder this process holds the lock of, where no other writer can be mid-write.
 *
 * @returns The names removed.
 */
export async function removeLeftovers(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && /\.tmp-\d+$/.test(entry.name)) {
      await Deno.remove(`${dir}/${entry.name}`);
      removed.push(entry.name);
    }
  }
  return removed;
}

/**
 * Writes a folder atomically: `write` fills a temporary folder beside `dir`, which then takes
 * `dir`'s place (a previous `dir` is moved aside first and removed after). On failure the
 * temporary folder is removed and `dir` is as it was.
 *
 * @throws {UserError} When the disk is full or read-only, naming `dir`.
 */
export async function writeFolderAtomic<T>(dir: string, write: (stage: string) => Promise<T>): Promise<T> {
  const path = dir.replace(/\/+$/, "");
  const stage = `${path}${TMP}${Deno.pid}`;
  const old = `${path}.old${TMP}${Deno.pid}`;
  try {
    await Deno.remove(stage, { recursive: true }).catch(() => {});
    await Deno.mkdir(stage, { recursive: true });
    const result = await write(stage);
    const replaced = await Deno.rename(path, old).then(() => true, (e) => {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    });
    await Deno.rename(stage, path);
    if (replaced) await Deno.remove(old, { recursive: true });
    return result;
  } catch (e) {
    await Deno.remove(stage, { recursive: true }).catch(() => {});
    throw fsError(e, path);
  }
}
