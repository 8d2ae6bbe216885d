/**
 * Ctrl-C and SIGTERM: what must happen before the process ends (child processes stopped, folder
 * locks released), run once, newest first, then exit 130 as an interrupted shell command does.
 * One listener runs every cleanup, so that no cleanup's exit cuts another short.
 *
 * Work that can stop cleanly at its next step (training, which then writes a checkpoint) defers
 * Ctrl-C ({@linkcode deferInterrupt}): the first only asks it to stop; a second Ctrl-C, or
 * SIGTERM (how a study stops its runs), interrupts at once as above.
 *
 * A busy Deno runtime takes in a signal only when its event loop waits (tokio reads the signal
 * pipe when it parks on its I/O driver, or after every 61 tasks run without parking); a training
 * whose awaits complete at once may not park for minutes, so asking whether a stop was requested
 * first waits for a timer, which makes it park.
 *
 * @module
 */

// Windows has no SIGTERM (and refuses a listener for it); Ctrl-Break is its other interrupt.
const SIGNALS: readonly Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT", "SIGBREAK"] : ["SIGINT", "SIGTERM"];
const cleanups: (() => void)[] = [];
const deferrals: Deferral[] = [];
const listeners = new Map<Deno.Signal, () => void>();

interface Deferral {
  requested: boolean;
  readonly message: string;
}

function interrupted(signal: Deno.Signal): void {
  const waiting = deferrals.filter((d) => !d.requested);
  if (signal === "SIGINT" && waiting.length > 0) {
    for (const d of waiting) {
      d.requested = true;
      console.error(d.message);
    }
    return;
  }
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      cleanup();
    } catch (e) {
      console.error(`error while stopping: ${(e as Error).message}`);
    }
  }
  Deno.exit(130);
}

/** Listens to the signals while anything is registered, and only then (a listener keeps them from ending the process). */
function listen(): void {
  const wanted = cleanups.length > 0 || deferrals.length > 0;
  if (wanted && listeners.size === 0) {
    for (const s of SIGNALS) {
      const listener = () => interrupted(s);
      listeners.set(s, listener);
      Deno.addSignalListener(s, listener);
    }
  } else if (!wanted) {
    for (const [s, listener] of listeners) Deno.removeSignalListener(s, listener);
    listeners.clear();
  }
}

/**
 * Runs `cleanup` if the process is interrupted.
 *
 * @returns Forgets `cleanup` (the work it guarded is over).
 */
export function onInterrupt(cleanup: () => void): () => void {
  cleanups.push(cleanup);
  listen();
  return () => {
    const i = cleanups.indexOf(cleanup);
    if (i < 0) return;
    cleanups.splice(i, 1);
    listen();
  };
}

/** A deferred Ctrl-C: whether one came, and the end of the deferral. */
export interface DeferredInterrupt {
  /** Whether Ctrl-C asked the work to stop at its next step, counting one that came while it ran. */
  requested(): Promise<boolean>;
  /** Ends the deferral: Ctrl-C interrupts at once again. */
  release(): void;
}

/**
 * Defers Ctrl-C until the caller asks {@linkcode DeferredInterrupt.requested} at its next step;
 * the first Ctrl-C prints `message`.
 */
export function deferInterrupt(message: string): DeferredInterrupt {
  const d: Deferral = { requested: false, message };
  deferrals.push(d);
  listen();
  return {
    async requested() {
      await new Promise((resolve) => setTimeout(resolve, 0));
      return d.requested;
    },
    release() {
      const i = deferrals.indexOf(d);
      if (i < 0) return;
      deferrals.splice(i, 1);
      listen();
    },
  };
}
