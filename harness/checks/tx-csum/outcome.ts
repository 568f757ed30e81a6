/** Turns tallies into a verdict, a message and evidence (pure). */
import type { Evidence } from '../../../matrix/record.js';
import type { CheckOutcome } from '../types.js';
import { EVIDENCE_FRAME_BYTES, frameHex, type WireFrame } from '../wire.js';
import type { FrameFault, FrameTally } from './judge.js';

/** Frames put into a record's evidence at most; the pcap has them all. */
export const MAX_EVIDENCE_FRAMES = 8;

export interface TxFindings {
  what: string;
  sent: number;
  tally: FrameTally;
  /** Accounting problems: missing datagrams, stream holes, payload mismatches. */
  accounting: string[];
  /** Losses the test set-up caused: with no device fault, the case is an `error` naming them. */
  setupLoss?: string[];
  /** Frames with accounting faults (unexpected payloads). */
  extraFaults?: FrameFault[];
  frames: readonly WireFrame[];
  evidence: Evidence;
}

/** How the device delivered the checksums, in words for the matrix. */
export function delivery(t: FrameTally): 'complete' | 'partial' | 'mixed' | 'none' {
  if (t.frames === 0) return 'none';
  if (t.partial === 0) return 'complete';
  return t.complete === 0 ? 'partial' : 'mixed';
}

export function txOutcome(f: TxFindings): { outcome: CheckOutcome; offending: WireFrame[] } {
  const faults = [...f.tally.faults, ...(f.extraFaults ?? [])];
  const byIndex = new Map(f.frames.map((w) => [w.index, w]));
  const offending = faults.map((x) => byIndex.get(x.index)).filter((w): w is WireFrame => w !== undefined);
  const evidence: Evidence = {
    ...f.evidence,
    sent: f.sent,
    framesOnWire: f.tally.frames,
    completeChecksums: f.tally.complete,
    partialChecksums: f.tally.partial,
    delivery: delivery(f.tally),
    frames: faults.slice(0, MAX_EVIDENCE_FRAMES).map((x) => {
      const data = byIndex.get(x.index)?.data ?? Buffer.alloc(0);
      const cut = data.length > EVIDENCE_FRAME_BYTES ? ` (first ${EVIDENCE_FRAME_BYTES} of ${data.length} bytes shown)` : '';
      return { hex: frameHex(data), reason: x.reason + cut };
    }),
  };
  if (f.setupLoss?.length) evidence.setupLoss = f.setupLoss;
  const problems: string[] = [];
  if (f.tally.faults.length > 0)
    problems.push(`${f.tally.faults.length} of ${f.tally.frames} frames faulty (first: ${f.tally.faults[0]!.reason})`);
  problems.push(...f.accounting);
  if (f.extraFaults?.length) problems.push(`${f.extraFaults.length} frame(s) matched nothing sent (first: ${f.extraFaults[0]!.reason})`);
  if (problems.length > 0) return { outcome: { status: 'fail', message: `${f.what}: ${problems.join('; ')}`, evidence }, offending };
  if (f.setupLoss?.length) {
    return { outcome: { status: 'error', message: `${f.what}: set-up loss, not judged: ${f.setupLoss.join('; ')}`, evidence }, offending };
  }
  if (f.tally.frames === 0) {
    return { outcome: { status: 'fail', message: `${f.what}: nothing of the ${f.sent} sent arrived at the peer`, evidence }, offending };
  }
  const how =
    delivery(f.tally) === 'partial'
      ? 'all arrived CHECKSUM_PARTIAL with a correct pseudo-header seed (the device leaves the sum to the receiver)'
      : delivery(f.tally) === 'mixed'
        ? `${f.tally.complete} with correct checksums, ${f.tally.partial} CHECKSUM_PARTIAL with correct seeds`
        : 'all with correct checksums';
  return {
    outcome: { status: 'pass', message: `${f.what}: ${f.tally.frames} frames, ${how}`, evidence: { ...evidence, frames: undefined } },
    offending,
  };
}
