/**
 * Verdict rules for hand-made TCP segments (pure): the DUT's socket must read
 * exactly the good segments' bytes, in order; the corrupted copies sent at the
 * same sequence numbers must never reach it, and must be counted.
 */
import { verifyL4 } from '../../codec/index.js';
import type { WireFrame } from '../wire.js';
import { arrivalRxFaults, deviceFacts, type ArrivalProof, type RxFault, type RxTally } from './judge.js';
import { ipPacketKey, type PlannedFrame } from './plan.js';
import { segmentFrame, type Handshake, type SegmentPlan, type TcpEnds } from './tcp-plan.js';

/** Planned frames of a stream: good segment i at index i, its bad copy at index n + i. */
export function tcpPlannedFrames(e: TcpEnds, hs: Handshake, segs: readonly SegmentPlan[]): PlannedFrame[] {
  const n = segs.length;
  const make = (s: SegmentPlan, which: 'good' | 'bad'): PlannedFrame => {
    const frame = segmentFrame(e, hs, s, which);
    return {
      index: which === 'good' ? s.index : n + s.index,
      kind: which === 'good' ? 'good' : 'bad-l4',
      family: e.family,
      src: e.peer,
      sport: e.sport,
      frame,
      key: ipPacketKey(frame)!,
      payload: which === 'good' ? s.good : s.bad,
      expect: which === 'good' ? 'deliver' : 'drop',
      csumOk: verifyL4(frame).ok,
      counter: which === 'bad' ? 'TcpInCsumErrors' : undefined,
    };
  };
  return [...segs.map((s) => make(s, 'good')), ...segs.map((s) => make(s, 'bad'))];
}

export interface TcpRxInput {
  planned: readonly PlannedFrame[];
  segs: readonly SegmentPlan[];
  captured: readonly WireFrame[];
  counters: Readonly<Record<string, number>>;
  /** What the DUT's socket read. */
  stream: { bytes: number; sha256: string };
  /** The good segments' bytes, concatenated. */
  want: { bytes: number; sha256: string };
  /** Where the corrupted copies got to; without it, only the DUT's capture counts. */
  arrivals?: ArrivalProof;
}

export function judgeTcpRx(input: TcpRxInput): RxTally {
  const { planned, segs, stream, want } = input;
  const { seen, ...facts } = deviceFacts(planned, input.captured, input.counters);
  const faults: RxFault[] = [];
  if (stream.bytes < want.bytes) {
    // The first segment the socket did not get all of: was it seen at the DUT at all?
    const s = segs.find((x) => x.offset + x.good.length > stream.bytes)!;
    const reached = seen[s.index]! > 0;
    faults.push({
      kind: reached ? 'dropped-good' : 'lost',
      count: 1,
      detail: `the socket read ${stream.bytes} of ${want.bytes} bytes: segment ${s.index} (stream offset ${s.offset}) ${reached ? 'reached the DUT but was not delivered' : 'never reached the DUT (not in its capture)'}`,
      frames: [s.index],
    });
  } else if (stream.bytes !== want.bytes || stream.sha256 !== want.sha256) {
    // Same length, other bytes: a corrupted copy was taken in place of a good segment.
    const reachedBad = segs.filter((s) => seen[segs.length + s.index]! > 0).map((s) => segs.length + s.index);
    faults.push({
      kind: 'delivered-bad',
      count: 1,
      detail: `the socket read ${stream.bytes} bytes (sha256 ${stream.sha256.slice(0, 12)}), the good segments hold ${want.bytes} (sha256 ${want.sha256.slice(0, 12)}): bytes of a corrupted segment were delivered`,
      frames: reachedBad.slice(0, 8),
    });
  }
  // A corrupted copy that never reached the DUT was not dropped by it: its drop proves nothing.
  if (input.arrivals) faults.push(...arrivalRxFaults(input.arrivals));
  return { ...facts, delivered: stream.bytes, faults: [...faults, ...facts.faults] };
}
