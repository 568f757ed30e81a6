/** One TCP connection's findings turned into a verdict, a message and evidence (pure). */
import { createHash } from 'node:crypto';
import type { Evidence, Status } from '../../../matrix/record.js';
import { combineStatuses } from '../../../matrix/verdict.js';
import { judgeRetransmits, retransEvidence } from '../retransmits.js';
import type { CheckOutcome } from '../types.js';
import { whereInWrites, type SegmentTally, type TcpFlowExpect } from './judge.js';

/** Faults quoted in a message; the evidence keeps more. */
const QUOTED_FAULTS = 3;
const EVIDENCE_FAULTS = 12;

/** What the DUT's own capture saw handed to its driver (outgoing frames of the flow). */
export interface HandedDown {
  /** Frames the driver was given. */
  frames: number;
  /** Of them, GSO super-frames (the device was asked to segment them). */
  superFrames: number;
  /** Segments those super-frames stand for. */
  superSegments: number;
}

export interface ConnectionFindings {
  /** "IPv4, MSS 536, timestamps on, Nagle on". */
  what: string;
  expect: TcpFlowExpect;
  tally: SegmentTally;
  /** What the peer's socket read. */
  received: { bytes: number; sha256: string };
  /** TCP_INFO tcpi_total_retrans of the DUT's socket (the connection's own TcpRetransSegs). */
  retransmitted: number;
  /** Of them, segments the peer DSACKed as duplicates (tcpi_dsack_dups). */
  dsackDups?: number;
  /** Data segments the DUT sent and the peer's socket got, every copy counted, when both said. */
  segments?: { sent: number; received: number };
  /** The write not acknowledged in time, how much was left, how long it waited. */
  stalled?: { write: number; unacked: number; waitedMs: number };
  /** Frames the peer's capture lost (kernel buffer): segments that could not be judged. */
  captureDropped: number;
  handedDown?: HandedDown;
}

export function connectionOutcome(c: ConnectionFindings): CheckOutcome {
  const { tally: t, expect: x } = c;
  const retrans = judgeRetransmits({
    bytes: x.stream.length,
    retransSegs: c.retransmitted,
    spuriousSegs: c.dsackDups,
    segments: c.segments,
    what: 'the DUT',
  });
  const problems: string[] = [];
  if (c.stalled) {
    const s = c.stalled;
    problems.push(
      `the connection stalled: write ${s.write + 1} of ${x.writes.length} was still not acknowledged after ${Math.round(s.waitedMs / 1000)} s (${s.unacked} bytes outstanding)`,
    );
  }
  // IDs a fragmented super-frame did not use are not lost frames: the fragments say what happened.
  if (t.lostFrames > 0 && t.fragments === 0)
    problems.push(`${t.lostFrames} frame(s) the DUT sent never reached the peer (IPv4 IDs skipped)`);
  if (t.faults.length > 0) {
    const quoted = t.faults.slice(0, QUOTED_FAULTS).map((f) => (f.index >= 0 ? `frame #${f.index}: ${f.reason}` : f.reason));
    problems.push(`${t.faults.length} fault(s) on the wire: ${quoted.join('; ')}${t.faults.length > QUOTED_FAULTS ? '; …' : ''}`);
  }
  const sha = createHash('sha256').update(x.stream).digest('hex');
  if (c.received.bytes !== x.stream.length || c.received.sha256 !== sha)
    problems.push(
      `the peer's socket received ${c.received.bytes} of the ${x.stream.length} bytes written${c.received.bytes === x.stream.length ? ', with different contents' : ''}`,
    );
  if (!retrans.ok) {
    const gaps = t.gaps.slice(0, 2).map((g) => `bytes ${g.from}–${g.to - 1} (${whereInWrites(x.writes, g.to - 1)})`);
    problems.push(`${retrans.message}${gaps.length ? `; first transmissions skipped ${gaps.join(', ')}` : ''}`);
  }
  if (t.duplicates > c.retransmitted)
    problems.push(`${t.duplicates} segments arrived twice, the DUT retransmitted only ${c.retransmitted}: the device sent copies`);
  const evidence: Evidence = {
    framesOnWire: t.frames,
    superFramesOnWire: t.superFrames,
    superFrameSegments: t.superSegments,
    largestSuperFrame: t.superFrames > 0 ? t.largestSuper : undefined,
    dataSegments: t.dataSegments,
    completeChecksums: t.completeChecksums,
    partialChecksums: t.partialChecksums,
    ipIdFixedInCut: x.family === 4 ? t.fixedIds : undefined,
    mangleId: x.family === 4 ? x.mangleId : undefined,
    pshSegments: t.pshSegments,
    bytesWritten: x.stream.length,
    writes: x.writes,
    mss: x.mss,
    bytesReceived: c.received.bytes,
    retransmits: retransEvidence(retrans),
    duplicatesOnWire: t.duplicates,
    lostFrames: x.family === 4 ? t.lostFrames : undefined,
    gaps: t.gaps.length,
    ipFragments: t.fragments || undefined,
    handedDown: c.handedDown,
    captureDropped: c.captureDropped || undefined,
    faults: t.faults.slice(0, EVIDENCE_FAULTS),
  };
  let status: Status;
  if (problems.length > 0) status = 'fail';
  else if (c.captureDropped > 0) {
    status = 'error';
    problems.push(`the peer's capture dropped ${c.captureDropped} frame(s): not every segment could be judged`);
  } else status = 'pass';
  if (status !== 'pass') return { status, message: `${c.what}: ${problems.join('; ')}`, evidence };
  return { status, message: `${c.what}: ${passSummary(c)}`, evidence };
}

function passSummary(c: ConnectionFindings): string {
  const t = c.tally;
  const cut = t.superFrames > 0 ? `${t.superFrames} super-frames cut into ${t.superSegments} segments, ` : '';
  const plain = t.frames - t.superFrames;
  const hw = c.handedDown && c.handedDown.superFrames > 0 ? `; the driver was handed ${c.handedDown.superFrames} super-frames` : '';
  const ids =
    c.expect.family === 4 ? (t.fixedIds > 0 ? `, IPv4 ID fixed within cuts ${t.fixedIds}× (mangleid on)` : ', IPv4 ID +1 per segment') : '';
  const bound = judgeRetransmits({ bytes: c.expect.stream.length, retransSegs: c.retransmitted }).bound;
  return `${c.expect.stream.length} bytes in ${c.expect.writes.length} writes arrived byte-exact; ${cut}${plain} frames, every segment right${ids}; ${c.retransmitted} retransmitted (fails at ${bound})${hw}`;
}

/** Several connections of one check × variant: one verdict by the shared order, every message kept. */
export function combineConnections(outcomes: readonly CheckOutcome[], evidence: Evidence = {}): CheckOutcome {
  const status = combineStatuses(outcomes.map((o) => o.status));
  const shown = status === 'pass' ? outcomes : outcomes.filter((o) => o.status === status);
  return {
    status,
    message: shown.map((o) => o.message).join(' | '),
    evidence: { ...evidence, connections: outcomes.map((o) => ({ status: o.status, message: o.message, ...o.evidence })) },
  };
}
