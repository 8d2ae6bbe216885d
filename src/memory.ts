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
