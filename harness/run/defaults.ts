/** The default matrix: what `nicmatrix run` tests when no --target is given. */
import { QEMU_MODELS } from '../../drivers/qemu/catalogue.js';

/**
 * The twelve x86 models of the default matrix, one chip per NIC family: the other i8255x chips and the
 * sparc64 SunHME (an hour's kernel build on first use) run with `--target-set seed`, so the default stays fast.
 */
export const DEFAULT_MODELS: readonly string[] = [
  'e1000',
  'e1000-82544gc',
  'e1000-82545em',
  'e1000e',
  'virtio-net-pci',
  'rtl8139',
  'i82557b',
  'i82559er',
  'tulip',
  'pcnet',
  'ne2k_pci',
  'vmxnet3',
];

/** lo, veth and the default models (the guest's default backend, vnet_hdr off). */
export const DEFAULT_TARGETS: readonly string[] = [
  'lo',
  'veth',
  ...QEMU_MODELS.filter((m) => DEFAULT_MODELS.includes(m.model)).map((m) => `qemu:${m.model}`),
];

/** Default parallel targets: one per core (a TCG guest keeps a core busy), at least one. */
export function defaultJobs(cpus: number): number {
  return Math.max(1, cpus);
}

/** Default place of a run record: out/runs/run-<UTC time>.json under the current directory. */
export function defaultRecordPath(now = new Date()): string {
  return `out/runs/run-${now.toISOString().replace(/[:.]/g, '-')}.json`;
}
