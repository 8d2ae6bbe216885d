/**
 * The process's peak resident memory, for run summaries: a run must fit the machines it is
 * meant for (about 2 GB per run on the 2-core CPUs).
 *
 * @module
 */

/** Peak resident set size of this process in bytes (Linux's VmHWM), or null where unknown. */
export function peakResidentBytes(): number | null {
  try {
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(Deno.readTextFileSync("/proc/self/status"))?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}

/**
 * Memory one run of a study may take at its peak: README's "about 1.5 GB per run" (medium runs
 * peaked at 0.76 GB training, the paper profile's evaluation at ~1.9 GB; REPRODUCE.md).
 */
const RUN_BYTES = 1.5e9;

/**
 * `jobs` runs at a time, or fewer where that many would not fit this machine's memory, with a
 * line saying so.
 *
 * @param totalBytes The machine's memory. @default Deno.systemMemoryInfo().total
 */
export function jobsThatFit(
  jobs: number,
  totalBytes: number = Deno.systemMemoryInfo().total,
): { jobs: number; warning: string | null } {
  const fit = Math.max(1, Math.floor(totalBytes / RUN_BYTES));
  if (jobs <= fit) return { jobs, warning: null };
  return {
    jobs: fit,
    warning: `--jobs ${jobs}: at about ${RUN_BYTES / 1e9} GB per run only ${fit} fit in this machine's ` +
      `${(totalBytes / 1e9).toFixed(0)} GB of memory; running ${fit} at a time`,
  };
}
