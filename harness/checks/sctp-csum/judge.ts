/**
 * Verdict rules for SCTP (pure). Transmit: every SCTP packet the DUT sent
 * carries the right CRC32c (not 0, not an internet checksum), or arrived
 * CHECKSUM_PARTIAL with the field 0 and csum_start/csum_offset on the SCTP
 * header; every good INIT got its INIT ACK. Receive: every corrupted INIT
 * reached the DUT's capture byte for byte, was not answered, and was counted
 * (SctpChecksumErrors); every good one that reached it was answered.
 */
import { checksum } from '../../codec/checksum.js';
import { SCTP_CSUM_OFFSET, SCTP_INIT_ACK, verifySctpFrame } from '../../codec/index.js';
import { checkIndexes } from '../rx-csum/judge.js';
import { ipPacketKey } from '../rx-csum/plan.js';
import type { WireFrame } from '../wire.js';
import type { SctpPlanned } from './plan.js';
import { arrivalFaults, type FrameTrace } from '../arrival.js';

export interface SctpTxTally {
  frames: number;
  complete: number;
  partial: number;
  faults: { index: number; reason: string }[];
  /** INIT ACKs keyed by the initiate tag they answer (their verification tag). */
  answered: Map<number, number>;
}

const hex32 = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

/** Judges the CRC32c of every SCTP frame the DUT sent, and collects which INITs were answered. */
export function judgeSctpTx(frames: readonly WireFrame[]): SctpTxTally {
  const t: SctpTxTally = { frames: frames.length, complete: 0, partial: 0, faults: [], answered: new Map() };
  for (const f of frames) {
    const v = verifySctpFrame(f.data);
    if (v.sctp?.chunks.some((c) => c.type === SCTP_INIT_ACK)) t.answered.set(v.sctp.vtag, (t.answered.get(v.sctp.vtag) ?? 0) + 1);
    const ip = v.parsed.ip;
    if (ip?.family === 4 && !ip.headerChecksumOk) {
      t.faults.push({ index: f.index, reason: `IPv4 header checksum 0x${ip.headerChecksum.toString(16)} is wrong` });
      continue;
    }
    if (v.state === 'unchecked') {
      t.faults.push({ index: f.index, reason: `SCTP packet could not be checked: ${v.reason ?? ''}` });
      continue;
    }
    const field = v.offset! + SCTP_CSUM_OFFSET;
    if (f.partial) {
      if (f.csumStart !== v.offset || f.csumOffset !== SCTP_CSUM_OFFSET)
        t.faults.push({
          index: f.index,
          reason: `arrived CHECKSUM_PARTIAL with csum_start ${f.csumStart}/csum_offset ${f.csumOffset}, the SCTP header is at ${v.offset}`,
        });
      else if (v.found !== 0)
        t.faults.push({ index: f.index, reason: `arrived CHECKSUM_PARTIAL with ${hex32(v.found)} in the field, Linux leaves 0 there` });
      else t.partial++;
      continue;
    }
    if (v.state === 'good') {
      t.complete++;
      continue;
    }
    let why = '';
    if (v.found === 0) why = ': the field was left 0';
    else {
      // A device that treats the SCTP packet like TCP/UDP writes a 16-bit internet checksum there.
      const end = ip!.offset + ip!.totalLen;
      const zeroed = Buffer.from(f.data.subarray(v.offset!, end));
      zeroed.fill(0, SCTP_CSUM_OFFSET, SCTP_CSUM_OFFSET + 4);
      if (f.data.readUInt16BE(field) === checksum(zeroed)) why = ': it holds an internet checksum, not a CRC32c';
    }
    t.faults.push({ index: f.index, reason: `CRC32c field holds ${hex32(v.found)}, expected ${hex32(v.expected)}${why}` });
  }
  return t;
}

export interface SctpRxInput {
  planned: readonly SctpPlanned[];
  /** Frames the DUT's capture received. */
  dutIn: readonly WireFrame[];
  answered: Map<number, number>;
  /** nstat deltas of the DUT; SctpChecksumErrors undefined when the kernel has no SCTP MIB. */
  counters: Readonly<Record<string, number>>;
  /** The injection's trace of each INIT: whose loss a frame that never reached the DUT is (arrival.ts). */
  arrivals?: {
    traces: readonly FrameTrace[];
    dutLoss: Record<string, number>;
    captureDropped: { dut: number; peer: number };
    peerLoss: Record<string, number>;
  };
}

export interface SctpRxTally {
  reached: number;
  answered: number;
  badReached: number;
  /** `status` error: the harness's loss, not the device's (absent: a device fault). */
  faults: { kind: string; count: number; detail: string; frames: number[]; status?: 'error' }[];
  counted?: { receptions: number; delta: number };
}

export function judgeSctpRx(input: SctpRxInput): SctpRxTally {
  checkIndexes('sctp-csum', input.planned);
  const seen = input.planned.map(() => 0);
  const valid = input.planned.map(() => 0);
  const byKey = new Map(input.planned.map((p) => [p.key, p.index]));
  for (const f of input.dutIn) {
    const i = byKey.get(ipPacketKey(f.data) ?? '');
    if (i === undefined) continue;
    seen[i]!++;
    if (f.csumValid) valid[i]!++;
  }
  const faults: SctpRxTally['faults'] = [];
  const add = (kind: string, pred: (p: SctpPlanned) => boolean, detail: string) => {
    const frames = input.planned.filter(pred).map((p) => p.index);
    if (frames.length > 0) faults.push({ kind, count: frames.length, detail, frames });
  };
  const got = (p: SctpPlanned) => (input.answered.get(p.initiateTag) ?? 0) > 0;
  add('delivered-bad', (p) => p.expect === 'drop' && got(p), 'INIT(s) with a wrong CRC32c were answered: the stack accepted them');
  add(
    'valid-bad',
    (p) => p.expect === 'drop' && valid[p.index]! > 0,
    'INIT(s) with a wrong CRC32c the device reported valid (TP_STATUS_CSUM_VALID)',
  );
  add('dropped-good', (p) => p.expect === 'answer' && seen[p.index]! > 0 && !got(p), 'good INIT(s) reached the DUT but got no INIT ACK');
  // Every INIT had to reach the DUT: a good one to be answered, a corrupted one for its silence to prove anything.
  const missing = input.planned.filter((p) => seen[p.index] === 0 && !got(p)).map((p) => p.index);
  if (input.arrivals) {
    const a = input.arrivals;
    for (const f of arrivalFaults(a.traces, missing, a.dutLoss, a.captureDropped, a.peerLoss))
      faults.push({
        kind: f.kind,
        count: f.count,
        detail: `INIT(s) ${f.detail}`,
        frames: f.frames,
        ...(f.status === 'error' ? { status: 'error' as const } : {}),
      });
  } else if (missing.length > 0) {
    faults.push({ kind: 'lost', count: missing.length, detail: "INIT(s) never reached the DUT's capture", frames: missing });
  }
  const badReached = input.planned.filter((p) => p.expect === 'drop' && seen[p.index]! > 0).reduce((n, p) => n + seen[p.index]!, 0);
  const delta = input.counters.SctpChecksumErrors;
  let counted: SctpRxTally['counted'];
  if (badReached > 0) {
    counted = { receptions: badReached, delta: delta ?? 0 };
    if ((delta ?? 0) < badReached)
      faults.push({
        kind: 'uncounted',
        count: badReached - (delta ?? 0),
        detail: `${badReached} corrupted INITs reached the DUT, SctpChecksumErrors rose by ${delta ?? 0}`,
        frames: [],
      });
  }
  return {
    reached: seen.filter((n) => n > 0).length,
    answered: input.planned.filter(got).length,
    badReached,
    faults,
    counted,
  };
}
