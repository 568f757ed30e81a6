/**
 * Named sets of targets (pure): `nicmatrix run --target-set NAME` runs each
 * set's targets as if every one was given with --target.
 */
import { NicmatrixError } from '../matrix/errors.js';
import { QEMU_MODELS } from './qemu/catalogue.js';

export interface TargetSet {
  name: string;
  description: string;
  targets: readonly string[];
}

/** The NIC families of the project's founding material that QEMU emulates; 3c59x, AceNIC and SysKonnect have no emulation. */
export const SEED_FAMILIES: readonly string[] = ['eepro100', 'sunhme'];

export const TARGET_SETS: readonly TargetSet[] = [
  {
    name: 'seed',
    description:
      "every emulated chip of the founding material's NIC families: the eepro100 (i8255x) variants QEMU emulates and the Sun Happy Meal (sparc64 guest); 3Com 3c59x, Alteon AceNIC and SysKonnect have no emulation (phys: only)",
    targets: QEMU_MODELS.filter((m) => m.family !== undefined && SEED_FAMILIES.includes(m.family)).map((m) => `qemu:${m.model}`),
  },
];

/** The targets of the named set; a USAGE error naming the known sets otherwise. */
export function targetSet(name: string): readonly string[] {
  const set = TARGET_SETS.find((s) => s.name === name);
  if (!set) throw new NicmatrixError('USAGE', `--target-set ${name}: no such set; known: ${TARGET_SETS.map((s) => s.name).join(', ')}`);
  return set.targets;
}
