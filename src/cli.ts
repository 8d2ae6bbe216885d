/**
 * What every command-line entry point shares: option parsing that checks each argument in the
 * order the user wrote them and reports the first bad one as written, `--help`, and exit codes —
 * 0 done, 1 failed, 2 the user's error: a usage error (one line saying what is wrong and one
 * pointing at `--help`), or what the user gave or left is unusable (one line: a folder in use, a
 * run of another config, a corrupt file, a path that is missing or of the wrong kind, a full or
 * read-only disk).
 *
 * @module
 */

/**
 * A problem the user can fix and a stack trace would not help with; the entry point prints its
 * one line and exits with code 2.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}

/** A mistake in the command line; the entry point also points at `--help`. */
export class UsageError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * The `code` of a filesystem error that a path the user gave causes, and the user must fix: not
 * found, already there, a file where a folder goes and the reverse, no permission, a read-only or
 * full disk.
 */
const USER_FS_CODES = ["ENOENT", "EEXIST", "ENOTDIR", "EISDIR", "EACCES", "EPERM", "EROFS", "ENOSPC", "EDQUOT"];

/** Whether `e` is a filesystem error the user must fix rather than a bug. */
export function isUserFsError(e: unknown): boolean {
  return e instanceof Error && USER_FS_CODES.includes((e as { code?: string }).code ?? "");
}

/** Deno's names of filesystem calls, as verbs of "Cannot … PATH". */
const FS_VERBS: Readonly<Record<string, string>> = {
  mkdir: "create",
  open: "open",
  readfile: "read",
  readdir: "read",
  stat: "read",
  lstat: "read",
  realpath: "read",
  write: "write",
  writefile: "write",
  truncate: "write",
  copy: "copy",
  rename: "move",
  remove: "remove",
  link: "link",
};

/**
 * A filesystem error as one line naming the path: `Cannot create out: File exists` for Deno's
 * `File exists (os error 17): mkdir 'out'`. Deno's message names the call, and the path only for
 * some calls: `path` (the one the caller was writing) is named where given.
 */
export function fsErrorLine(e: Error, path?: string, verb?: string): string {
  const m = /^(.*?) \(os error \d+\)(?:: (\w+)(?: '([^']*)')?)?/.exec(e.message);
  if (!m) return path === undefined ? e.message : `Cannot ${verb ?? "write"} ${path}: ${e.message}`;
  const [, reason, call, named] = m;
  return `Cannot ${verb ?? FS_VERBS[call ?? ""] ?? "use"} ${path ?? named ?? "a file"}: ${reason}`;
}

/** Reads an option's text into its value, or throws a {@linkcode UsageError}. */
export type Parse<T> = (text: string, flag: string) => T;

/** One option: a switch (`--x`, and `--no-x` to turn it off) or an option with a value. */
export type OptionSpec =
  | { readonly type: "boolean" } & OptionScope
  | {
    readonly type: "string";
    /** Reads the text; the text itself when absent. */
    readonly parse?: Parse<unknown>;
    /** May be given more than once; the values come in order. */
    readonly multiple?: boolean;
    /** Missing is an error, reported after every given option has been checked. */
    readonly required?: boolean;
  }
    & OptionScope;

/**
 * Where an option has an effect: an option given where it would be ignored is an error, so that
 * a misplaced or mistyped one is not silently dropped.
 */
export interface OptionScope {
  /** Only with this option (`--out` only with `--raw`). */
  readonly needs?: string;
  /** Never with this option (`--jobs` is ignored by `--table`). */
  readonly conflicts?: string;
}

/** Option specifications by name (without the leading `--`). */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type ValueOf<S extends OptionSpec> = S extends { type: "boolean" } ? boolean
  : S extends { parse: Parse<infer T> } ? (S extends { multiple: true } ? T[] : T)
  : S extends { multiple: true } ? string[]
  : string;

/** The values read: required options are always there, others may be undefined. */
export type OptionValues<O extends OptionSpecs> =
  & { [K in keyof O as O[K] extends { required: true } ? K : never]: ValueOf<O[K]> }
  & { [K in keyof O as O[K] extends { required: true } ? never : K]?: ValueOf<O[K]> };

/** How `a` and `b` differ: the number of single-character edits between them. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}

function unknownOption(raw: string, names: readonly string[]): UsageError {
  const name = raw.replace(/^-+/, "").split("=")[0]!;
  const near = names.map((n) => [n, editDistance(name, n)] as const).filter(([, d]) => d <= 2)
    .sort((a, b) => a[1] - b[1])[0];
  return new UsageError(`unknown option ${raw}${near ? ` (did you mean --${near[0]}?)` : ""}`);
}

/**
 * Reads `args` against `options`: `--name value`, `--name=value`, switches as `--name` or
 * `--no-name`, and `--` before positionals that start with a dash. A value that starts with a
 * dash is taken as the value when it is a number (`--seed -1`), so that it is checked as one.
 * Every argument is checked in order and the first bad one reported as the user wrote it; a
 * missing required option is reported after all given ones passed, then an option given where
 * it has no effect ({@linkcode OptionScope}). An empty value is refused.
 *
 * @throws {UsageError} At the first bad argument.
 */
export function parseCli<const O extends OptionSpecs>(
  args: readonly string[],
  options: O,
  allowPositionals = false,
): { values: OptionValues<O>; positionals: string[] } {
  const names = Object.keys(options);
  const values: Record<string, unknown> = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--")) {
      if (arg.startsWith("-") && arg.length > 1) throw unknownOption(arg, names);
      if (!allowPositionals) throw new UsageError(`unexpected argument "${arg}": this command takes only options`);
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const negated = !(name in options) && name.startsWith("no-") && options[name.slice(3)]?.type === "boolean";
    const spec = options[negated ? name.slice(3) : name];
    if (!spec) throw unknownOption(arg, names);
    const key = negated ? name.slice(3) : name;
    if (spec.type === "boolean") {
      if (eq >= 0) throw new UsageError(`${arg}: --${key} is a switch and takes no value`);
      values[key] = !negated;
      continue;
    }
    let text: string;
    if (eq >= 0) text = arg.slice(eq + 1);
    else {
      const next = args[i + 1];
      if (next === undefined || (next.startsWith("-") && !/^-\.?\d/.test(next))) {
        throw new UsageError(`--${key} needs a value`);
      }
      text = next;
      i++;
    }
    assignValue(values, spec, key, text);
  }
  checkGiven(values, options);
  return { values: values as OptionValues<O>, positionals };
}

/** Reads an option's value text into `values`, as `--key text` gives it. */
function assignValue(
  values: Record<string, unknown>,
  spec: Extract<OptionSpec, { type: "string" }>,
  key: string,
  text: string,
): void {
  // `--out ""` would write at the root of the filesystem.
  if (text.trim() === "") throw new UsageError(`--${key} ${JSON.stringify(text)}: must not be empty`);
  const value = spec.parse ? spec.parse(text, `--${key}`) : text;
  if (spec.multiple) ((values[key] ??= []) as unknown[]).push(value);
  else if (key in values) throw new UsageError(`--${key} ${text}: --${key} was already given`);
  else values[key] = value;
}

/** The checks after every option was read: the required ones given, each given one where it applies. */
function checkGiven(values: Record<string, unknown>, options: OptionSpecs): void {
  for (const [name, spec] of Object.entries(options)) {
    if (spec.type === "string" && spec.required && !(name in values)) throw new UsageError(`missing --${name}`);
  }
  for (const name of Object.keys(values)) {
    const { needs, conflicts } = options[name]!;
    if (needs !== undefined && !(needs in values)) throw new UsageError(`--${name} applies only with --${needs}`);
    if (conflicts !== undefined && values[conflicts] !== undefined && values[conflicts] !== false) {
      throw new UsageError(`--${name} has no effect with --${conflicts}`);
    }
  }
}

/**
 * Reads named option texts (`{ lambda: "0.001", "policy-self": "" }`) against `options` as
 * {@linkcode parseCli} reads `--lambda 0.001 --policy-self`, with the same checks and messages: a
 * switch's text is empty (`no-NAME` turns it off), every other option's is its value. The demo
 * page's form and address give a run's options so.
 *
 * @throws {UsageError} At the first bad option.
 */
export function parseNamed<const O extends OptionSpecs>(
  texts: Readonly<Record<string, string>>,
  options: O,
): { values: OptionValues<O> } {
  const names = Object.keys(options);
  const values: Record<string, unknown> = {};
  for (const [name, text] of Object.entries(texts)) {
    const negated = !(name in options) && name.startsWith("no-") && options[name.slice(3)]?.type === "boolean";
    const key = negated ? name.slice(3) : name;
    const spec = options[key];
    if (!spec) throw unknownOption(`--${name}`, names);
    if (spec.type !== "boolean") assignValue(values, spec, key, text);
    else if (text !== "") throw new UsageError(`--${name}=${text}: --${key} is a switch and takes no value`);
    else values[key] = !negated;
  }
  checkGiven(values, options);
  return { values: values as OptionValues<O> };
}

/**
 * A parser of integers in `min..max`; `noun` names the value in the error ("a seed must be …").
 * Integers past 2^53 are refused: they would be rounded, and two of them read as one.
 */
export function int(min = 0, noun?: string, max = Number.MAX_SAFE_INTEGER): Parse<number> {
  return (text, flag) => {
    const n = Number(text);
    if (text.trim() === "" || !Number.isSafeInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in ${min}..${max}`;
      throw new UsageError(`${flag} ${text}: ${noun ? `${noun} ` : ""}must be an integer ${range}`);
    }
    return n + 0; // -0 reads as 0
  };
}

/** A parser of finite numbers. */
export function number(): Parse<number> {
  return (text, flag) => {
    const n = Number(text);
    if (text.trim() === "" || !Number.isFinite(n)) throw new UsageError(`${flag} ${text}: must be a number`);
    return n;
  };
}

/** A parser of one of `choices`. */
export function choice<T extends string>(choices: readonly T[]): Parse<T> {
  return (text, flag) => {
    if (!(choices as readonly string[]).includes(text)) {
      throw new UsageError(`${flag} ${text}: must be one of ${choices.join(", ")}`);
    }
    return text as T;
  };
}

/**
 * A parser of comma-separated values, each read by `item`. A value given twice is refused: the
 * lists name runs, and two runs of one name would share a folder.
 */
export function list<T>(item: Parse<T>): Parse<T[]> {
  return (text, flag) => {
    const values = text.split(",").map((part) => item(part.trim(), flag));
    const twice = values.find((v, i) => values.indexOf(v) !== i);
    if (twice !== undefined) throw new UsageError(`${flag} ${text}: ${twice} is given twice`);
    return values;
  };
}

/**
 * Runs an entry point: prints `usage` for `--help`, a usage error as one line and a pointer to
 * `--help` (exit 2), a {@linkcode UserError} or a filesystem error the user must fix (a path not
 * found or of the wrong kind, no permission, a full or read-only disk) as one line (exit 2),
 * the message of any other error (exit 1), and exits with the code `main` returns.
 */
export async function runMain(
  usage: string,
  main: (args: string[]) => Promise<number | void>,
): Promise<never> {
  const args = Deno.args;
  const beforeEnd = args.includes("--") ? args.slice(0, args.indexOf("--")) : args;
  if (beforeEnd.includes("--help") || beforeEnd.includes("-h")) {
    console.log(usage.trim());
    Deno.exit(0);
  }
  try {
    Deno.exit((await main(args)) ?? 0);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`error: ${e.message}\nFor more information, try '--help'.`);
      Deno.exit(2);
    }
    if (e instanceof UserError) {
      console.error(`error: ${e.message}`);
      Deno.exit(2);
    }
    if (isUserFsError(e)) {
      console.error(`error: ${fsErrorLine(e as Error)}`);
      Deno.exit(2);
    }
    // Errors this package raises on purpose name what is wrong; anything else may be a bug, so
    // it keeps its stack.
    const deliberate = e instanceof Error && !["Error", "TypeError", "ReferenceError"].includes(e.name);
    console.error(`error: ${deliberate ? e.message : e instanceof Error ? e.stack : String(e)}`);
    Deno.exit(1);
  }
}
