/** Turns a receive tally into a verdict, a message and evidence (pure). */
import type { Evidence } from '../../../matrix/record.js';
import { combineStatuses } from '../../../matrix/verdict.js';
import type { CheckOutcome } from '../types.js';
import { frameHex } from '../wire.js';
import type { RxFault, RxTally } from './judge.js';
import { kindCounts, type PlannedFrame } from './plan.js';

/** Offending frames put into a record's evidence at most; the pcap has them all. */
export const MAX_EVIDENCE_FRAMES = 8;

/** How much the device checked in hardware, in words for the matrix ("12 of 100"). */
export function hardwareValidated(t: RxTally): string {
  return `${t.goodValidated} of ${t.goodSeen}`;
}

function faultLine(f: RxFault, planned: readonly PlannedFrame[]): string {
  const kinds = [...new Set(f.frames.flatMap((i) => planned[i] ?? []).map((p) => `IPv${p.family} ${p.kind}`))];
  const what = f.kind === 'corrupt' || f.kind === 'uncounted' ? '' : `${f.count} frame(s)${kinds.length ? ` (${kinds.join(', ')})` : ''} `;
  return `${what}${f.detail}`;
}

/** Offending planned frames, first ones of each fault, for evidence and the pcap. */
export function offendingFrames(t: RxTally): number[] {
  return [...new Set(t.faults.flatMap((f) => f.frames))];
}

/** Good frames left unvalidated put into evidence at most (their payload lengths). */
const MAX_UNVALIDATED = 20;

/**
 * `rxOffloadOff`: the variant turned RX checksum offload off, so a device that
 * still marks frames CSUM_VALID is not honouring the switch (noted, not a fault:
 * the checksums it vouched for were right, or `valid-bad` says otherwise).
 * `groOn`: GRO could not be turned off, and it marks what it validated in software.
 * `vlanFilterFixed`: ethtool shows `rx-vlan-filter` on and `[fixed]`: the device drops
 * tagged frames of VLANs it was not told about (VID 0 included) and cannot be told otherwise.
 */
export function rxOutcome(
  what: string,
  t: RxTally,
  planned: readonly PlannedFrame[],
  extra: Evidence,
  opts: { rxOffloadOff?: boolean; groOn?: boolean; vlanFilterFixed?: boolean } = {},
): CheckOutcome {
  const counted = Object.fromEntries(Object.entries(t.counted).map(([k, [want, delta]]) => [k, { receptions: want, delta }]));
  const evidence: Evidence = {
    ...extra,
    frameKinds: kindCounts(planned),
    reached: t.reached,
    delivered: t.delivered,
    hardwareValidated: hardwareValidated(t),
    badReportedValid: t.badValidated,
    counted,
  };
  const notes: string[] = [];
  if (t.goodValidated > 0 && t.goodUnvalidated.length > 0) {
    evidence.unvalidatedPayloadLengths = t.goodUnvalidated.slice(0, MAX_UNVALIDATED).map((i) => planned[i]!.payload.length);
  }
  if (t.zeroValidated > 0) {
    evidence.zeroChecksumReportedValid = t.zeroValidated;
    notes.push(`the device marked ${t.zeroValidated} IPv6 UDP datagrams without a checksum CSUM_VALID (the stack dropped them anyway)`);
  }
  if (opts.groOn && t.goodValidated > 0) {
    // GRO sums TCP/UDP in software and marks the frame as a device would: the count is not the device's alone.
    evidence.csumValidIncludesGro = true;
    notes.push('GRO stayed on, so CSUM_VALID includes its software validation');
  } else if (opts.rxOffloadOff && t.goodValidated > 0) {
    evidence.validatedWithOffloadOff = true;
    notes.push('the device validates although rx-checksumming is off');
  }
  const drops = planned.filter((p) => p.expect === 'drop').length;
  const counts = Object.entries(t.counted).map(([k, [, d]]) => `${k} +${d}`);
  if (opts.vlanFilterFixed && t.reached === 0 && t.faults.length > 0 && t.faults.every((f) => f.kind === 'lost')) {
    // Left the peer, filtered before the stack by a filter ethtool shows fixed on: not offered, not a checksum fault.
    return {
      status: 'unsupported',
      message: `${what}: none of the ${planned.length} tagged frames reached the DUT's stack, and ethtool shows rx-vlan-filter on [fixed]: the device filters VLAN-tagged frames (no VLAN ID configured, VID 0 included), so their checksums cannot be judged here`,
      evidence: { ...evidence, filteredByDevice: true },
    };
  }
  if (t.faults.length > 0) {
    const bad = offendingFrames(t).slice(0, MAX_EVIDENCE_FRAMES);
    evidence.faults = t.faults.map((f) => ({ kind: f.kind, count: f.count, detail: f.detail, ...(f.status ? { status: f.status } : {}) }));
    evidence.frames = bad.map((i) => ({ hex: frameHex(planned[i]!.frame), reason: t.faults.find((f) => f.frames.includes(i))!.detail }));
    const status = combineStatuses(t.faults.map((f) => f.status ?? 'fail'));
    return { status, message: `${what}: ${t.faults.map((f) => faultLine(f, planned)).join('; ')}`, evidence };
  }
  const parts = [`${planned.length - drops} delivered intact`];
  if (drops > 0) parts.push(`${drops} dropped${counts.length ? ` (counted: ${counts.join(', ')})` : ''}`);
  if (t.goodSeen > 0) parts.push(`the device marked ${hardwareValidated(t)} good frames CSUM_VALID`);
  parts.push(...notes);
  return { status: 'pass', message: `${what}: ${parts.join(', ')}`, evidence };
}
