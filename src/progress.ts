/**
 * Progress of long work on stderr: a bar with rate and ETA redrawn in place on a terminal, and
 * plain lines at most every `intervalMs` elsewhere (CI logs, files), so logs stay readable.
 *
 * @module
 */

/** Formats seconds as `3d04h`, `1h02m`, `3m05s` or `42s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const d = Math.floor(s / 86400), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  if (d >= 2) return `${d}d${String(h % 24).padStart(2, "0")}h`;
  if (h > 0) return `${h}h${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m${String(r).padStart(2, "0")}s`;
  return `${r}s`;
}

/** Options of a {@linkcode Progress}. */
export interface ProgressOptions {
  /** Where lines go. @default stderr */
  readonly write?: (text: string) => void;
  /** Whether to redraw one line in place. @default whether stderr is a terminal */
  readonly inPlace?: boolean;
  /** Least time between two plain lines. @default 15000 */
  readonly intervalMs?: number;
  /** Clock. @default performance.now */
  readonly now?: () => number;
}

/** A progress display for `total` units of work. */
export class Progress {
  readonly #label: string;
  readonly #total: number;
  readonly #unit: string;
  readonly #write: (text: string) => void;
  readonly #inPlace: boolean;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #start: number;
  readonly #startDone: number;
  #lastLine = -Infinity;

  /**
   * @param label What is being done.
   * @param total Units of work in all.
   * @param unit Name of a unit, for the rate ("it", "img").
   * @param done Units already done before this process (a resumed run): excluded from the rate.
   */
  constructor(label: string, total: number, unit: string, done = 0, options: ProgressOptions = {}) {
    const encoder = new TextEncoder();
    this.#label = label;
    this.#total = total;
    this.#unit = unit;
    this.#write = options.write ?? ((t) => Deno.stderr.writeSync(encoder.encode(t)));
    this.#inPlace = options.inPlace ?? Deno.stderr.isTerminal();
    this.#intervalMs = options.intervalMs ?? 15_000;
    this.#now = options.now ?? (() => performance.now());
    this.#start = this.#now();
    this.#startDone = done;
  }

  /** The status line for `done` units and a trailing `note`. */
  line(done: number, note = ""): string {
    const elapsed = (this.#now() - this.#start) / 1000;
    const rate = (done - this.#startDone) / Math.max(elapsed, 1e-9);
    const eta = rate > 0 ? (this.#total - done) / rate : Infinity;
    const width = 20;
    const filled = Math.round((width * done) / Math.max(this.#total, 1));
    const bar = "█".repeat(filled) + "░".repeat(width - filled);
    const rateText = rate >= 1 ? `${rate.toFixed(1)} ${this.#unit}/s` : `${(1 / rate).toFixed(1)} s/${this.#unit}`;
    return `${this.#label} ${bar} ${done}/${this.#total} ${done > this.#startDone ? rateText : ""} ` +
      `ETA ${done >= this.#total ? "0s" : formatDuration(eta)} ${note}`.trimEnd();
  }

  /** Reports `done` units; prints when due. */
  update(done: number, note = ""): void {
    const now = this.#now();
    if (this.#inPlace) {
      this.#write(`\r\x1b[2K${this.line(done, note)}`);
    } else if (now - this.#lastLine >= this.#intervalMs || done >= this.#total) {
      this.#lastLine = now;
      this.#write(`${this.line(done, note)}\n`);
    }
  }

  /** Ends the display (a newline after an in-place bar). */
  finish(): void {
    if (this.#inPlace) this.#write("\n");
  }
}
