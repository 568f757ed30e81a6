/** The default matrix: what `nicmatrix run` tests when no --target is given. */
import { QEMU_MODELS } from '../../drivers/qemu/catalogue.js';

/** lo, veth and every QEMU model of the catalogue (the guest's default backend, vnet_hdr off). */
export const DEFAULT_TARGETS: readonly string[] = ['lo', 'veth', ...QEMU_MODELS.map((m) => `qemu:${m.model}`)];

/** Default parallel targets: one per core (a TCG guest keeps a core busy), at least one. */
export function defaultJobs(cpus: number): number {
  return Math.max(1, cpus);
}

/** Default place of a run record: out/runs/run-<UTC time>.json under the current directory. */
export function defaultRecordPath(now = new Date()): string {
  return `out/runs/run-${now.toISOString().replace(/[:.]/g, '-')}.json`;
}
