/** Temporary folders for tests, removed whatever the test does. */

/** Runs `f` in a new temporary folder, removed afterwards whatever `f` does. */
export function inTempDir(f: (dir: string) => Promise<void>): Promise<void> {
  return inTempDirs(1, ([dir]) => f(dir));
}

/** Runs `f` in `count` new temporary folders, removed afterwards whatever `f` does. */
export async function inTempDirs(
  count: number,
  f: (dirs: [string, ...string[]]) => Promise<void>,
): Promise<void> {
  const dirs: string[] = [];
  try {
    for (let i = 0; i < count; i++) dirs.push(await Deno.makeTempDir());
    await f(dirs as [string, ...string[]]);
  } finally {
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
}
