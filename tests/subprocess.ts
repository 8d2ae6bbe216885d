/** Running this package's commands in fresh processes, as a user would, and reading what they print. */

import assert from "node:assert/strict";

/** `scripts/<name>.ts` of this checkout, as a path. */
export function scriptPath(name: string): string {
  return new URL(`../scripts/${name}.ts`, import.meta.url).pathname;
}

/**
 * The command `deno <args>` (without colours, output piped), run after the command `prefix` when
 * given (e.g. `unshare …`).
 */
export function denoCommand(args: string[], o: { cwd?: string; prefix?: string[] } = {}): Deno.Command {
  const [cmd, ...pre] = o.prefix?.length ? [...o.prefix, Deno.execPath()] : [Deno.execPath()];
  return new Deno.Command(cmd!, {
    args: [...pre, ...args],
    ...(o.cwd === undefined ? {} : { cwd: o.cwd }),
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });
}

/** Runs `command` to its end and returns its exit code and its decoded output. */
export async function outputOf(command: Deno.Command): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await command.output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** Runs `deno <args>` (without colours) and returns its exit code and its decoded output. */
export function runDeno(args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return outputOf(denoCommand(args, cwd === undefined ? {} : { cwd }));
}

/** The one error line of a command that failed, maybe after printing progress: the last line. */
export function assertOneErrorLine(stderr: string, first: RegExp): void {
  const errors = stderr.trimEnd().split("\n").filter((l) => l.startsWith("error"));
  assert.equal(errors.length, 1, stderr);
  assert.match(errors[0]!, first);
  assert.equal(stderr.trimEnd().split("\n").at(-1), errors[0]);
  assert.doesNotMatch(stderr, /^\s+at /m, "no stack trace");
}
