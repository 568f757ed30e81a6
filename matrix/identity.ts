/**
 * Device identity and ordering helpers for the matrix: a device is what the
 * record says it is (QEMU model, or PCI id, or the link kind and its
 * description) plus the driver that bound and its firmware. Pure.
 */
import type { TargetRecord } from './record.js';

/** What the device is, before driver and firmware: `qemu:<model>`, `pci:<id>`, else `<kind>:<model or description>`. */
export function deviceBase(t: Pick<TargetRecord, 'kind' | 'device'>): string {
  if (t.kind === 'qemu' && t.device.model) return `qemu:${t.device.model}`;
  if (t.device.pciId) return `pci:${t.device.pciId}`;
  return `${t.kind}:${t.device.model ?? t.device.description}`;
}

/** The identity key of a target's device: `<base>|<driver>|<firmware>`. */
export function deviceKey(t: Pick<TargetRecord, 'kind' | 'device' | 'driver'>): string {
  return `${deviceBase(t)}|${t.driver.name}|${t.driver.firmware}`;
}

/** FNV-1a, 32 bits, as 8 hex digits: short stable suffixes for names. */
export function shortHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** A file-name-safe, unique form of any key (readable part + hash of the whole). */
export function slug(key: string): string {
  const readable = key
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, '-')
    .replace(/^[-.]+|-+$/g, '')
    .slice(0, 60);
  return `${readable || 'x'}-${shortHash(key)}`;
}

/** Orders kernel releases by their numbers: 6.1.0 < 6.1.0-18-amd64 < 6.9 < 6.18.2. */
export function compareKernels(a: string, b: string): number {
  const pa = a.split(/(\d+)/);
  const pb = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    if (pa[i] === pb[i]) continue;
    const na = Number(pa[i]);
    const nb = Number(pb[i]);
    if (i % 2 === 1 && Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
    return pa[i]! < pb[i]! ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** The family of a check ID: the part before the first slash. */
export function familyOf(check: string): string {
  const i = check.indexOf('/');
  return i < 0 ? check : check.slice(0, i);
}

/**
 * Families in the order a reader thinks: checksums out and in, segmentation,
 * tunnels, zero-copy, fragments, frame hygiene. Families not listed (new
 * ones) follow, alphabetically.
 */
export const FAMILY_ORDER: readonly string[] = [
  'tx-csum',
  'rx-csum',
  'tso',
  'gso',
  'uso',
  'tunnel-csum',
  'sctp-csum',
  'zc',
  'frag',
  'tx-frame',
];

/** Reading order of two families (`FAMILY_ORDER`, then unknown ones alphabetically). */
export function compareFamilies(a: string, b: string): number {
  const ia = FAMILY_ORDER.indexOf(a);
  const ib = FAMILY_ORDER.indexOf(b);
  if (ia !== ib) return (ia < 0 ? FAMILY_ORDER.length : ia) - (ib < 0 ? FAMILY_ORDER.length : ib);
  return a.localeCompare(b);
}

/** Check IDs grouped by family in reading order, sorted within a family. */
export function orderChecks(checks: Iterable<string>): string[] {
  return [...checks].sort((a, b) => compareFamilies(familyOf(a), familyOf(b)) || a.localeCompare(b));
}
