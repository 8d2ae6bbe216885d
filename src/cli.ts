/**
 * What every command-line entry point shares: strict option parsing (unknown options are
 * errors), `--help`, and exit codes — 0 done, 1 failed, 2 usage error.
 *
 * @module
 */

import { parseArgs } from "node:util";

/** A mistake in the command line; the entry point exits with code 2 and prints its usage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Option specifications as `node:util` `parseArgs` takes them. */
export type OptionSpecs = Record<
  string,
  { type: "string" | "boolean"; short?: string; multiple?: boolean; default?: string | boolean }
>;

/**
 * Parses `args` against `options`, rejecting unknown options (and positionals unless allowed).
 *
 * @throws {UsageError} On anything `parseArgs` rejects.
 */
export function parseCli<const O extends OptionSpecs>(args: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args, options: { ...options, help: { type: "boolean" } }, strict: true, allowPositionals });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Reads an integer option, with its name in the error. */
export function intOption(name: string, value: string, min = 0): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new UsageError(`Option --${name} must be an integer ≥ ${min}, got "${value}"`);
  }
  return n;
}

/** Reads a number option, with its name in the error. */
export function numberOption(name: string, value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) {
    throw new UsageError(`Option --${name} must be a number, got "${value}"`);
  }
  return n;
}

/** Reads an option that must be one of `choices`. */
export function choiceOption<T extends string>(
  name: string,
  value: string,
  choices: readonly T[],
): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`Option --${name} must be one of ${choices.join(", ")}, got "${value}"`);
  }
  return value as T;
}

/**
 * Runs an entry point: prints `usage` for `--help` or a usage error (exit 2), the message of any
 * other error (exit 1), and exits with the code `main` returns.
 */
export async function runMain(
  usage: string,
  main: (args: string[]) => Promise<number | void>,
): Promise<never> {
  const args = Deno.args;
  if (args.includes("--help") || args.includes("-h")) {
    console.log(usage.trim());
    Deno.exit(0);
  }
  try {
    Deno.exit((await main(args)) ?? 0);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`error: ${e.message}\n\n${usage.trim()}`);
      Deno.exit(2);
    }
    // Errors this package raises on purpose name what is wrong; anything else may be a bug, so
    // it keeps its stack.
    const deliberate = e instanceof Error && !["Error", "TypeError", "ReferenceError"].includes(e.name);
    console.error(`error: ${deliberate ? e.message : e instanceof Error ? e.stack : String(e)}`);
    Deno.exit(1);
  }
}
