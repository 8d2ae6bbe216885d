/** Running this package's commands in fresh processes, as a user would. */

/** `scripts/<name>.ts` of this checkout, as a path. */
export function scriptPath(name: string): string {
  return new URL(`../scripts/${name}.ts`, import.meta.url).pathname;
}

/** Runs `deno <args>` (without colours) and returns its exit code and its decoded output. */
export async function runDeno(
  args: string[],
  cwd?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    ...(cwd === undefined ? {} : { cwd }),
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}
