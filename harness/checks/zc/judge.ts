/**
 * Verdict rules of the zc family: byte-exact streams, mutation attribution,
 * checksum and retransmission counters, and whether zero-copy was honoured.
 * Pure: facts in, faults out.
 */
import type { Status } from '../../../matrix/record.js';
import { NicmatrixError } from '../../codec/errors.js';
import { judgeRetransmits, receiverDropSegments, type RetransJudgement, retransFromDelta } from '../retransmits.js';
import type { ZerocopyMode } from '../../codec/zc/completions.js';
import { POISON } from '../../codec/zc/pattern.js';
import type { AttributionResult, ExactResult } from '../../codec/zc/verify.js';

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

/** Blocks as "N block(s) (first at offset X)"; only called with a non-empty list. */
function blocksText(blocks: number[], blockSize: number): string {
  return `${blocks.length} block(s) of ${blockSize} bytes (first at offset ${blocks[0]! * blockSize})`;
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
    // The receiver samples its first foreign bytes; an agent that sent none still has the count judged.
    const f = got.firstForeign[0];
    faults.push(
      `${what}: ${got.foreign} byte(s) belong to no generation written there${f ? `, first at offset ${f.offset} (generation 0 ${f.expected}, found ${f.found})` : ''}`,
    );
  }
  const untouched: number[] = [];
  const unwritten: number[] = [];
  const afterCompletion: number[] = [];
  let changed = 0;
  let mixed = 0;
  let writtenBlocks = 0;
  let poisonedBlocks = 0;
  // The sender's block lists and the receiver's masks describe the same blocks of the same file.
  if (written.length !== got.masks.length || poisoned.length !== got.masks.length)
    throw new NicmatrixError(
      'AGENT',
      `${what}: expected the sender's written/poisoned lists to cover the receiver's ${got.masks.length} blocks, found ${written.length}/${poisoned.length}`,
    );
  for (const [b, seen] of got.masks.entries()) {
    const allowed = (written[b]! | 1) >>> 0;
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

/** Peer counters that each prove one kind of broken frame reached the peer's stack, with what to call it. */
export const PEER_FRAME_FAULTS: readonly { counter: string; fault: string }[] = [
  { counter: 'IpExtInCsumErrors', fault: 'frame(s) with a wrong IPv4 header checksum reached the peer' },
  { counter: 'IpExtInTruncatedPkts', fault: 'truncated IPv4 frame(s) (shorter than their total length) reached the peer' },
  { counter: 'Ip6InTruncatedPkts', fault: 'truncated IPv6 frame(s) (shorter than their payload length) reached the peer' },
  { counter: 'Ip6InHdrErrors', fault: 'IPv6 frame(s) with a malformed header reached the peer' },
  { counter: 'TcpInCsumErrors', fault: 'TCP segment(s) with a wrong checksum reached the peer' },
  { counter: 'UdpInCsumErrors', fault: 'UDP datagram(s) with a wrong checksum reached the peer' },
  { counter: 'Udp6InCsumErrors', fault: 'UDP/IPv6 datagram(s) with a wrong checksum reached the peer' },
];

/**
 * Faults proven by the peer's nstat deltas over a transfer, one message per
 * kind. IpInHdrErrors also counts the IPv4 checksum errors, so only the
 * rest of it is named as malformed headers (bad length fields, version, IHL).
 */
export function peerCounterFaults(peerDelta: Record<string, number>): string[] {
  const out = PEER_FRAME_FAULTS.filter((c) => (peerDelta[c.counter] ?? 0) > 0).map(
    (c) => `${peerDelta[c.counter]} ${c.fault} (${c.counter} +${peerDelta[c.counter]})`,
  );
  const otherHdr = (peerDelta.IpInHdrErrors ?? 0) - (peerDelta.IpExtInCsumErrors ?? 0);
  if (otherHdr > 0)
    out.push(
      `${otherHdr} IPv4 frame(s) with a malformed header (length fields, version or header length) reached the peer (IpInHdrErrors +${peerDelta.IpInHdrErrors})`,
    );
  return out;
}

/**
 * What the `zc/msg-zerocopy-honoured` verdict rests on. When the kernel
 * reports SO_EE_CODE_ZEROCOPY_COPIED (net/core/skbuff.c): it copied the user
 * pages for a tap or a local receiver (skb_orphan_frags_rx: every packet
 * socket on the DUT, veth/lo/tun delivery), or the skb lost its last paged
 * byte (__pskb_pull_tail clears zero-copy: skb_linearize, or a driver that
 * pulls whole short frames into its own ring, e.g. vmxnet3 below 128 bytes),
 * or SG was off at send time. Retransmissions and clones do not copy
 * (SKBFL_DONT_ORPHAN). A notification that merges adjacent ranges keeps the
 * first range's code, so one short copied frame can mark the calls after it.
 */
export interface HonouredFacts {
  mode: ZerocopyMode;
  calls: number;
  copiedCalls: number;
  /** Anything wrong with delivery: bytes, completions, loss, retransmissions. A pass proves delivery too. */
  deliveryFaults: string[];
  /** Scatter-gather is active on the DUT after the variant asked for it (ethtool). */
  sgActive: boolean;
  /** Set when the device hands frames to a local socket (lo, veth, tun): the kernel copies them by policy. */
  localDelivery?: string;
  /** Set when packet sockets tap the DUT's interface: the kernel copies every frame it gives them. */
  taps?: string;
  /** Every TCP send was a whole number of the connection's MSS (no short frame a driver may copy by design). */
  fullSegments?: { ok: boolean; planned: number; actual: number[] };
}

/** The `zc/msg-zerocopy-honoured` verdict: pass only when delivery is proven and no send was copied. */
export function honouredOutcome(f: HonouredFacts): { status: Status; message: string } {
  const n = `${f.copiedCalls} of ${f.calls} MSG_ZEROCOPY send calls`;
  if (f.deliveryFaults.length > 0) {
    const more = f.deliveryFaults.length > 2 ? `; and ${f.deliveryFaults.length - 2} more` : '';
    return { status: 'fail', message: `the sends were not delivered intact: ${f.deliveryFaults.slice(0, 2).join('; ')}${more}` };
  }
  if (f.mode === 'honoured')
    return {
      status: 'pass',
      message: `zero-copy honoured: none of ${f.calls} MSG_ZEROCOPY send calls was copied, bytes exact at the peer`,
    };
  if (f.mode === 'none')
    return { status: 'fail', message: `no MSG_ZEROCOPY completion arrived for ${f.calls} send calls: zero-copy cannot be judged honoured` };
  if (f.localDelivery)
    return {
      status: 'skip',
      message: `${n} were copied: ${f.localDelivery} delivers to a local socket, and the kernel copies every zero-copy frame looped to a local socket (msg_zerocopy.rst, "Loopback"): a kernel policy, not a property of the device`,
    };
  if (!f.sgActive)
    return {
      status: 'unsupported',
      message: `${n} were copied: scatter-gather is not active on the device (ethtool: it is fixed off or did not stay on), and without it the kernel copies`,
    };
  if (f.taps)
    return {
      status: 'skip',
      message: `${n} were copied while ${f.taps}: the kernel copies every zero-copy frame it hands to a tap (skb_orphan_frags_rx), so the device cannot be judged`,
    };
  if (f.fullSegments && !f.fullSegments.ok)
    return {
      status: 'error',
      message: `${n} were copied, but the TCP MSS was ${f.fullSegments.actual.join('/')}, not the planned ${f.fullSegments.planned}: short frames were sent, which a driver may copy by design, so the device cannot be judged`,
    };
  return {
    status: 'fail',
    message: `${n} were copied (SO_EE_CODE_ZEROCOPY_COPIED) although scatter-gather is on, no tap or local receiver was present and every TCP send was whole full-sized segments: the driver copied (linearized) them`,
  };
}

/** Counter deltas over a transfer (see session.ts `counting`). */
export interface TransferCounters {
  dut: Record<string, number>;
  peer: Record<string, number>;
  dutLink?: Record<string, number>;
  peerLink?: Record<string, number>;
}

/**
 * Faults of one TCP transfer from the counters around it: the peer's
 * broken-frame counters, and the DUT's lost segments against their bound
 * (losses the receiving side's own counters account for are reported, not
 * judged); `receiverDropSegs` is that account, for per-connection judgements;
 * `segments`, the connections' data segments sent and received, summed.
 */
export function transferFaults(
  what: string,
  bytes: number,
  c: TransferCounters,
  dutDeliversLocally = false,
  segments?: { sent: number; received: number },
): { faults: string[]; retransmits: RetransJudgement; receiverDropSegs: number } {
  const { retransSegs, spuriousSegs, detail } = retransFromDelta(c.dut);
  const receiverDropSegs = receiverDropSegments({
    peerNstat: c.peer,
    peerLink: c.peerLink ?? {},
    dutLink: c.dutLink ?? {},
    dutNstat: c.dut,
    dutDeliversLocally,
  });
  const retransmits = judgeRetransmits({ bytes, retransSegs, spuriousSegs, receiverDropSegs, segments, detail, what });
  return { faults: [...peerCounterFaults(c.peer), ...(retransmits.ok ? [] : [retransmits.message])], retransmits, receiverDropSegs };
}
