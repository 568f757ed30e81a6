/**
 * Verdict rules of the zc family: byte-exact streams, mutation attribution,
 * checksum and retransmission counters, and whether zero-copy was honoured.
 * Pure: facts in, faults out.
 */
import type { Status } from '../../../matrix/record.js';
import type { ZerocopyMode } from './completions.js';
import { POISON } from './pattern.js';
import type { AttributionResult, ExactResult } from './verify.js';

/** What is wrong with a stream that should be byte-exact; empty when it is. */
export function streamFaults(what: string, r: ExactResult): string[] {
  const out: string[] = [];
  const m = r.mismatch;
  if (m && m.offset < Math.min(r.bytes, r.expected)) {
    out.push(`${what}: ${r.wrongBytes} byte(s) differ, first at offset ${m.offset} (expected ${m.expected}, found ${m.found})`);
  }
  if (r.bytes < r.expected) out.push(`${what}: the peer received ${r.bytes} of ${r.expected} bytes`);
  if (r.bytes > r.expected)
    out.push(`${what}: the peer received ${r.bytes} bytes, ${r.bytes - r.expected} more than the ${r.expected} sent`);
  return out;
}

/** Blocks as "N block(s) (first at offset X)". */
function blocksText(blocks: number[], blockSize: number): string {
  return `${blocks.length} block(s) of ${blockSize} bytes (first at offset ${blocks[0] * blockSize})`;
}

export interface MutationFindings {
  faults: string[];
  /** Blocks the user wrote while in flight. */
  blocksWritten: number;
  /** Blocks where a later generation than 0 reached the peer. */
  blocksChangedOnWire: number;
  /** Blocks where two or more generations arrived (torn by the user's own writes). */
  blocksMixed: number;
  blocksPoisoned: number;
}

/**
 * Every received byte must be a generation the user wrote at that offset
 * (generation 0 always counts), never the POISON written after completion;
 * blocks never written must be exact.
 */
export function judgeMutation(what: string, written: Uint32Array, poisoned: Uint8Array, got: AttributionResult): MutationFindings {
  const faults: string[] = [];
  if (got.foreign > 0) {
    const f = got.firstForeign[0];
    faults.push(
      `${what}: ${got.foreign} byte(s) belong to no generation written there, first at offset ${f.offset} (generation 0 ${f.expected}, found ${f.found})`,
    );
  }
  const untouched: number[] = [];
  const unwritten: number[] = [];
  const afterCompletion: number[] = [];
  let changed = 0;
  let mixed = 0;
  let writtenBlocks = 0;
  let poisonedBlocks = 0;
  for (let b = 0; b < got.masks.length; b++) {
    const seen = got.masks[b];
    const allowed = (written[b] | 1) >>> 0;
    if (written[b] !== 0) writtenBlocks++;
    if (poisoned[b]) poisonedBlocks++;
    if ((seen & ~1) !== 0) changed++;
    if ((seen & (seen - 1)) !== 0) mixed++;
    const poisonSeen = (seen >>> POISON) & 1;
    if (poisonSeen && poisoned[b]) afterCompletion.push(b);
    const extra = (seen & ~allowed & ~(poisoned[b] ? 1 << POISON : 0)) >>> 0;
    if (extra === 0) continue;
    if (written[b] === 0 && !poisoned[b]) untouched.push(b);
    else unwritten.push(b);
  }
  if (afterCompletion.length > 0)
    faults.push(
      `${what}: a write made after its MSG_ZEROCOPY completion reached the wire in ${blocksText(afterCompletion, got.blockSize)}`,
    );
  if (untouched.length > 0) faults.push(`${what}: bytes the user never touched changed in ${blocksText(untouched, got.blockSize)}`);
  if (unwritten.length > 0) faults.push(`${what}: ${blocksText(unwritten, got.blockSize)} carry a generation the user never wrote there`);
  if (got.bytes !== got.expected) faults.push(`${what}: the peer received ${got.bytes} of ${got.expected} bytes`);
  return { faults, blocksWritten: writtenBlocks, blocksChangedOnWire: changed, blocksMixed: mixed, blocksPoisoned: poisonedBlocks };
}

/** Checksum-error counters: any increase means a segment with a bad checksum reached a stack. */
export const CSUM_ERROR_COUNTERS = ['TcpInCsumErrors', 'IpExtInCsumErrors', 'UdpInCsumErrors', 'Udp6InCsumErrors'] as const;
/** Retransmissions beyond this share of the segments sent (and this floor) are a storm. */
export const STORM_SHARE = 0.1;
export const STORM_FLOOR = 50;

/** Faults in nstat deltas: checksum errors where the peer received, a retransmission storm where the DUT sent. */
export function counterFaults(peerDelta: Record<string, number>, dutDelta: Record<string, number>): string[] {
  const out: string[] = [];
  const bad = CSUM_ERROR_COUNTERS.filter((k) => (peerDelta[k] ?? 0) > 0).map((k) => `${k} +${peerDelta[k]}`);
  if (bad.length > 0) out.push(`segments with bad checksums reached the peer (${bad.join(', ')})`);
  const retrans = dutDelta.TcpRetransSegs ?? 0;
  const segs = dutDelta.TcpOutSegs ?? 0;
  if (retrans > Math.max(STORM_FLOOR, STORM_SHARE * segs))
    out.push(`retransmission storm: the DUT retransmitted ${retrans} of ${segs} segments`);
  return out;
}

/** Why the kernel may copy MSG_ZEROCOPY data by design, when it is known. */
export interface CopyReasons {
  /** Scatter-gather is active on the DUT (without it the kernel always copies). */
  sgActive: boolean;
  /** Set when the device hands frames to a local socket (lo, veth): the receive path copies user pages. */
  localDelivery?: string;
}

/** The `zc/msg-zerocopy-honoured` verdict: pass only when no send was copied. */
export function honouredOutcome(
  mode: ZerocopyMode,
  tally: { calls: number; copiedCalls: number },
  why: CopyReasons,
): { status: Status; message: string } {
  const n = `${tally.copiedCalls} of ${tally.calls} MSG_ZEROCOPY send calls`;
  if (mode === 'honoured')
    return { status: 'pass', message: `zero-copy honoured: none of ${tally.calls} MSG_ZEROCOPY send calls was copied` };
  if (mode === 'none')
    return {
      status: 'fail',
      message: `no MSG_ZEROCOPY completion arrived for ${tally.calls} send calls: zero-copy cannot be judged honoured`,
    };
  if (!why.sgActive)
    return {
      status: 'unsupported',
      message: `${n} were copied (SO_EE_CODE_ZEROCOPY_COPIED): the device has scatter-gather off, and without it the kernel copies`,
    };
  if (why.localDelivery)
    return {
      status: 'unsupported',
      message: `${n} were copied (SO_EE_CODE_ZEROCOPY_COPIED): ${why.localDelivery} delivers to a local socket, and local delivery copies user pages`,
    };
  return {
    status: 'fail',
    message: `${n} were copied (SO_EE_CODE_ZEROCOPY_COPIED) although the device has scatter-gather on and transmits for real (an AF_PACKET capture on the DUT would also make the kernel copy)`,
  };
}
