/**
 * Ctrl-C and SIGTERM: what must happen before the process ends (child processes stopped, folder
 * locks released), run once, newest first, then exit 130 as an interrupted shell command does.
 * One listener runs every cleanup, so that no cleanup's exit cuts another short.
 *
 * @module
 */

// Windows has no SIGTERM (and refuses a listener for it); Ctrl-Break is its other interrupt.
const SIGNALS: readonly Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT", "SIGBREAK"] : ["SIGINT", "SIGTERM"];
const cleanups: (() => void)[] = [];

function interrupted(): void {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      cleanup();
    } catch (e) {
      console.error(`error while stopping: ${(e as Error).message}`);
    }
  }
  Deno.exit(130);
}

/**
 * Runs `cleanup` if the process is interrupted.
 *
 * @returns Forgets `cleanup` (the work it guarded is over).
 */
export function onInterrupt(cleanup: () => void): () => void {
  if (cleanups.length === 0) { for (const s of SIGNALS) Deno.addSignalListener(s, interrupted); }
  cleanups.push(cleanup);
  return () => {
    const i = cleanups.indexOf(cleanup);
    if (i < 0) return;
    cleanups.splice(i, 1);
    if (cleanups.length === 0) { for (const s of SIGNALS) Deno.removeSignalListener(s, interrupted); }
  };
}
