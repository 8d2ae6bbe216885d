/**
 * Writing files so that a crash, a full disk or a read-only folder leaves nothing half-written,
 * and nothing this package did not write is deleted or overwritten.
 *
 * Each file (or folder of files) goes to a temporary name beside its final one and is renamed
 * over it once complete (a rename within a folder is atomic), and what a killed writer left
 * behind is removed by the next one. Every folder the package writes holds a marker,
 * `.crl-tac.json`, saying what kind of folder it is ({@linkcode FolderKind}); a folder is
 * written only when it is new, empty, or of the same kind by its marker, and a folder written
 * whole is replaced only when everything in it is what its marker lists.
 *
 * @module
 */

import { fsErrorLine, isUserFsError, UserError } from "./cli.ts";

/** The marker of a file being written: `<name>.tmp-<pid>`. */
const TMP = ".tmp-";

/**
 * A filesystem error the user must fix (a path missing or of the wrong kind, no permission, a
 * full or read-only disk) as their one line naming `path` (exit 2); any other error as it is.
 *
 * @param verb What was being done to `path`. @default "write"
 */
export function fsError(e: unknown, path: string, verb = "write"): unknown {
  // Deno's message names the failed call ("…(os error 28): write"), not always the file.
  return isUserFsError(e) ? new UserError(fsErrorLine(e as Error, path, verb)) : e;
}

/** Whether a file or folder is at `path` (through links: a dangling link is nothing). */
export function exists(path: string): Promise<boolean> {
  return Deno.stat(path).then(() => true, () => false);
}

/** The marker file of a folder this package writes. */
export const MARKER = ".crl-tac.json";

/**
 * A kind of folder this package writes, named in its marker: one written over time (a run, a
 * study), which is taken when new, empty or of this kind, or one written whole (`whole`: saved
 * features, a dataset, a merged study, a bundle), which replaces one of this kind only when
 * everything in it is what its marker lists.
 */
export interface FolderKind {
  /** The kind as its marker names it, and in words ("run": a run folder). */
  readonly name: string;
  /** Written whole by {@linkcode writeFolderAtomic}; its marker lists what it holds. @default false */
  readonly whole?: boolean;
  /**
   * Recognises a folder of this kind written before markers existed (a run folder by its
   * checkpoint's header; for a kind written whole, only where everything in it is the package's):
   * such a folder is taken as marked.
   */
  readonly unmarked?: (dir: string) => Promise<boolean>;
}

/** What a marker holds. */
interface Marker {
  readonly package: "crl-tac";
  readonly kind: string;
  /** What a folder written whole holds: every path under it, a folder's with a final `/`. */
  readonly files?: readonly string[];
}

/** Every path under `dir`, relative to it, a folder's with a final `/`, sorted; the marker left out. */
async function listTree(dir: string, prefix = ""): Promise<string[]> {
  const paths: string[] = [];
  for await (const entry of Deno.readDir(`${dir}/${prefix}`)) {
    if (!prefix && entry.name === MARKER) continue;
    const path = `${prefix}${entry.name}`;
    if (entry.isDirectory) paths.push(`${path}/`, ...(await listTree(dir, `${path}/`)));
    else paths.push(path);
  }
  return paths.sort();
}

/** The marker of `dir`, or null where it has none or one that is not this package's. */
async function readMarker(dir: string): Promise<Marker | null> {
  try {
    const m = JSON.parse(await Deno.readTextFile(`${dir}/${MARKER}`));
    return m?.package === "crl-tac" && typeof m.kind === "string" ? m : null;
  } catch {
    return null;
  }
}

/** `a, b and c`, or `a, b and 3 more`. */
function someOf(names: readonly string[]): string {
  const [shown, rest] = names.length <= 3
    ? [names.slice(0, -1), names.at(-1)]
    : [names.slice(0, 2), `${names.length - 2} more`];
  return shown.length ? `${shown.join(", ")} and ${rest}` : `${rest}`;
}

/** The first part of `path` that is not a folder (`a.txt` of `a.txt/run`). */
async function fileInTheWay(path: string): Promise<string> {
  const parts = path.split("/");
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join("/");
    if (!prefix) continue;
    const isFolder = await Deno.stat(prefix).then((s) => s.isDirectory, () => true);
    if (!isFolder) return prefix;
  }
  return path;
}

/**
 * The names in the folder `dir`, sorted, or null where there is nothing at `dir`.
 *
 * @param named How `refuse`'s message names `dir`: "it" when it is the message's subject.
 * @throws {UserError} From `refuse`, saying why, when `dir` or a folder above it is a file; or
 *   the filesystem's error naming `dir` (no permission).
 */
async function folderNames(dir: string, refuse: (why: string) => UserError, named = "it"): Promise<string[] | null> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(dir);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    if (e instanceof Deno.errors.NotADirectory) throw refuse(`${await fileInTheWay(dir)} is a file`);
    throw fsError(e, dir, "read");
  }
  if (!stat.isDirectory) throw refuse(`${named} is a file`);
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
  } catch (e) {
    throw fsError(e, dir, "read");
  }
}

/**
 * Checks that `dir`, a folder the user gave to read from, is one that can be read.
 *
 * @param what The folder in words, for messages ("run folder").
 * @throws {UserError} When it does not exist, is a file, or cannot be read, naming it.
 */
export async function checkInputFolder(dir: string, what: string): Promise<void> {
  const refuse = (why: string) => new UserError(`Cannot read the ${what} ${dir}: ${why}`);
  if ((await folderNames(dir, refuse)) === null) throw refuse("no such folder");
}

/**
 * Checks, before the work that makes it, that the file `path` may be written: it is new, in an
 * existing folder, or a file this package wrote (`ours` recognises it by its content).
 *
 * @param what The file in words, for messages ("result file").
 * @throws {UserError} Naming `path` and what is in the way.
 */
export async function checkOutputFile(path: string, what: string, ours: (path: string) => Promise<boolean>) {
  const refuse = (why: string) => new UserError(`Cannot write the ${what} ${path}: ${why}`);
  const slash = path.lastIndexOf("/");
  const folder = slash < 0 ? "." : path.slice(0, slash) || "/";
  if ((await folderNames(folder, refuse, folder)) === null) throw refuse(`there is no folder ${folder}`);
  const stat = await Deno.stat(path).catch(() => null);
  if (stat?.isDirectory) throw refuse("it is a folder");
  if (stat && !(await ours(path))) throw refuse("it holds something this package did not write (choose a new file)");
}

/**
 * What is at `dir`: nothing, an empty folder, or a folder of `kind` (marked, or written before
 * markers existed).
 *
 * @throws {UserError} When `dir` or a folder above it is a file, or `dir` holds anything else,
 *   naming `dir` and what is in the way.
 */
async function examine(dir: string, kind: FolderKind): Promise<"new" | "empty" | "marked" | "unmarked"> {
  const refuse = (why: string) => new UserError(`Cannot write the ${kind.name} folder ${dir}: ${why}`);
  const names = await folderNames(dir, refuse);
  if (names === null) return "new";
  if (names.length === 0) return "empty";
  const marker = names.includes(MARKER) ? await readMarker(dir) : null;
  if (marker && marker.kind !== kind.name) {
    throw refuse(`it is a ${marker.kind} folder of this package (choose another folder)`);
  }
  if (!marker) {
    if (await kind.unmarked?.(dir)) return "unmarked";
    throw refuse(
      `it holds ${someOf(names)} and is not a ${kind.name} folder of this package (choose a new or empty folder)`,
    );
  }
  if (kind.whole) {
    const listed = new Set(marker.files ?? []);
    const others = (await listTree(dir)).filter((path) => !listed.has(path));
    if (others.length > 0) {
      throw refuse(
        `it holds ${someOf(others)}, which this package did not write (move it away or choose another folder)`,
      );
    }
  }
  return "marked";
}

/** Whether `dir` is a folder of `kind`: by its marker, or as one written before markers existed. */
export async function isFolderOf(dir: string, kind: FolderKind): Promise<boolean> {
  return await isMarkedAs(dir, kind) || (await kind.unmarked?.(dir) ?? false);
}

/** Whether `dir`'s marker names it a folder of `kind`. */
export async function isMarkedAs(dir: string, kind: FolderKind): Promise<boolean> {
  return (await readMarker(dir))?.kind === kind.name;
}

/**
 * Checks that `dir` may be written as a folder of `kind`, before the work that fills it: it is
 * new, empty or a folder of that kind ({@linkcode FolderKind}).
 *
 * @returns Whether `dir` holds a folder of that kind already.
 * @throws {UserError} Naming `dir` and what is in the way.
 */
export async function checkFolder(dir: string, kind: FolderKind): Promise<boolean> {
  const found = await examine(dir.replace(/\/+$/, ""), kind);
  return found === "marked" || found === "unmarked";
}

/**
 * Takes `dir` as a folder of `kind` written over time: created and marked when new or empty, or
 * one of that kind already (then marked, if it predates markers).
 *
 * @throws {UserError} Naming `dir` and what is in the way, or the filesystem's error.
 */
export async function openFolder(dir: string, kind: FolderKind): Promise<void> {
  const found = await examine(dir.replace(/\/+$/, ""), kind);
  if (found === "marked") return;
  try {
    await Deno.mkdir(dir, { recursive: true });
    await writeTextAtomic(`${dir}/${MARKER}`, JSON.stringify({ package: "crl-tac", kind: kind.name }) + "\n");
  } catch (e) {
    throw fsError(e, dir);
  }
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
 * Writes a folder of `kind` whole and atomically: `write` fills a temporary folder beside `dir`,
 * which gets its marker and then takes `dir`'s place. `dir` must be new, empty or a folder of
 * `kind` ({@linkcode checkFolder}), checked before `write` starts; one replaced is said on
 * `log`, moved aside first and removed after. On failure the temporary folder is removed and
 * `dir` is as it was.
 *
 * @param log Where the line about a replaced folder goes. @default stderr
 * @throws {UserError} When `dir` holds anything else, or the disk is full or read-only, naming `dir`.
 */
export async function writeFolderAtomic<T>(
  dir: string,
  kind: FolderKind,
  write: (stage: string) => Promise<T>,
  log: (line: string) => void = console.error,
): Promise<T> {
  const path = dir.replace(/\/+$/, "");
  if (await checkFolder(path, kind)) log(`replacing the ${kind.name} folder ${path}, which this package wrote earlier`);
  const stage = `${path}${TMP}${Deno.pid}`;
  const old = `${path}.old${TMP}${Deno.pid}`;
  try {
    await Deno.remove(stage, { recursive: true }).catch(() => {});
    await Deno.mkdir(stage, { recursive: true });
    const result = await write(stage);
    const marker: Marker = { package: "crl-tac", kind: kind.name, files: await listTree(stage) };
    await Deno.writeTextFile(`${stage}/${MARKER}`, JSON.stringify(marker, null, 2) + "\n");
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
