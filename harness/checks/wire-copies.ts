/**
 * A device that sends a frame twice (pure). TCP hides it: the receiver drops
 * the copy and the stream arrives exact. The sender's own counters bound what
 * the wire may carry: every TCP segment the DUT's stack put out is counted in
 * TcpOutSegs (new data, ACKs, SYN, FIN, RST) or TcpRetransSegs, so the DUT's
 * TCP segments the peer captured can never outnumber their sum on a sound
 * link. The bound is one-sided: other TCP traffic of the DUT, captures that
 * lost frames, or super-frames counted low can only hide copies, never
 * invent them.
 */
import { canonicalIp, TCP_SYN } from '../codec/index.js';
import { dutToPeer, withWireFinding, type LinkEnds } from './header-intent.js';
import type { CheckOutcome } from './types.js';
import type { WireFrame } from './wire.js';

export interface CopiesInput extends LinkEnds {
  /** The DUT interface's MTU: a super-frame longer than it counts as the segments it holds at most this size. */
  mtu: number;
}

export interface CopiesJudgement {
  /** TCP segments from the DUT to the peer on the wire, of connections begun in the variant (each distinct frame once, super-frames by size). */
  onWire: number;
  /** TcpOutSegs + TcpRetransSegs of the DUT over the variant. */
  sent: number;
  /** onWire - sent when positive: copies the device made. */
  copies: number;
}

/**
 * Counts the DUT's TCP segments in every capture of the variant; a frame in two captures that overlapped (same
 * arrival time, same bytes) is one frame. Undefined when the DUT's counters are missing.
 */
export function judgeTcpCopies(
  captures: readonly (readonly WireFrame[])[],
  input: CopiesInput,
  dutNstat: Record<string, number> | undefined,
): CopiesJudgement | undefined {
  const out = dutNstat?.TcpOutSegs;
  if (out === undefined) return undefined;
  const sent = out + (dutNstat?.TcpRetransSegs ?? 0);
  const fromDut = dutToPeer(input);
  const seen = new Set<string>();
  const segments = new Map<string, number>();
  /** Connections the DUT opened or answered during the variant: a late frame of an earlier one is not counted. */
  const opened = new Set<string>();
  for (const frames of captures) {
    for (const f of frames) {
      const key = `${f.raw.tsNs}:${f.raw.data}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const ip = f.parsed.ip;
      const tcp = f.parsed.l4?.tcp;
      if (!ip || !tcp || ip.fragment || !fromDut(ip)) continue;
      const conn = `${canonicalIp(ip.src)} ${tcp.sport} ${canonicalIp(ip.dst)} ${tcp.dport}`;
      if (tcp.flags & TCP_SYN) opened.add(conn);
      const data = ip.totalLen - ip.hdrLen - tcp.hdrLen;
      const mss = Math.max(1, input.mtu - ip.hdrLen - tcp.hdrLen);
      segments.set(conn, (segments.get(conn) ?? 0) + Math.max(1, Math.ceil(data / mss)));
    }
  }
  let onWire = 0;
  for (const [conn, n] of segments) if (opened.has(conn)) onWire += n;
  return { onWire, sent, copies: Math.max(0, onWire - sent) };
}

/** A variant's outcome with the copies found (see withWireFinding): a duplicating device fails. */
export function withTcpCopies(outcome: CheckOutcome, j: CopiesJudgement | undefined): CheckOutcome {
  if (!j || j.copies === 0) return outcome;
  const line = `the wire carried ${j.onWire} TCP segment(s) from the DUT, its stack sent ${j.sent} (TcpOutSegs + TcpRetransSegs): the device sent ${j.copies} it was not given (copies, or frames of its own)`;
  return withWireFinding(outcome, line, { ...outcome.evidence, tcpCopies: j });
}
