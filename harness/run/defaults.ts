/** The default matrix: what `nicmatrix run` tests when no --target is given. */
export const DEFAULT_TARGETS: readonly string[] = ['lo', 'veth'];

/** Default parallel targets: one per core, at least one. */
export function defaultJobs(cpus: number): number {
  return Math.max(1, cpus);
}

/** Default place of a run record: out/runs/run-<UTC time>.json under the current directory. */
export function defaultRecordPath(now = new Date()): string {
  return `out/runs/run-${now.toISOString().replace(/[:.]/g, '-')}.json`;
}
