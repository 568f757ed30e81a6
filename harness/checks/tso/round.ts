/**
 * One TCP connection DUT → peer under capture on both ends: the peer's
 * capture is the wire, the DUT's (headers only) shows what the driver was
 * handed. The judging is pure (judge.ts, outcome.ts).
 */
import type { Side } from '../../../drivers/types.js';
import type { IpFamily } from '../../codec/index.js';
import { PACKET_OUTGOING } from '../../sys/consts.js';
import { streamBytes } from '../../agent/actions/tcp-stream.js';
import { SETTLE_MS } from '../capture-round.js';
import { connectionSegments } from '../retransmits.js';
import type { CheckContext, CheckOutcome } from '../types.js';
import type { Evidence } from '../../../matrix/record.js';
import { decodeCapture, flowFilter, type WireFrame } from '../wire.js';
import { judgeSegments, type SegmentFault } from './judge.js';
import { connectionOutcome, type HandedDown } from './outcome.js';

/** How long one write may wait for its acknowledgement before the connection counts as stalled. */
export const ACK_TIMEOUT_MS = 5000;
/** Bytes of each outgoing frame the DUT's capture keeps: headers are enough to count super-frames, a tunnel's too (outer IPv6, VXLAN, inner IPv6, TCP with options: 170). */
const DUT_SNAPLEN = 192;

export interface ConnectionCase {
  /** TCP_MAXSEG; the MTU's MSS when absent. */
  mss?: number;
  nodelay: boolean;
  timestamps: boolean;
}

export interface ConnectionPlan {
  family: IpFamily;
  sport: number;
  dport: number;
  seed: number;
  writes: number[];
  /** The DUT's MTU during this connection. */
  mtu: number;
  mangleId: boolean;
  /** Another path than the link's own addresses and interfaces (a VLAN sub-interface, a tunnel); captures stay on `dutIf`/`peerIf`. */
  via?: PathVia;
}

/** One captured frame of a wrapping path: the inner frame it carries (when it parses) and the fault of its wrapping. */
export interface Unwrapped {
  index: number;
  inner?: WireFrame;
  fault?: string;
}

/** The connection's own frames: addresses, protocol and ports. */
export interface ConnectionFlow {
  family: IpFamily;
  src: string;
  dst: string;
  proto: number;
  sport: number;
  dport: number;
}

export interface PathVia {
  src: string;
  dst: string;
  dutIf: string;
  peerIf: string;
  label: string;
  /** The MTU the path's segments are held to (a tunnel's); the DUT's when absent. */
  mtu?: number;
  /** A path that wraps its segments (a tunnel): each captured frame's inner frame and the fault of its wrapping. */
  unwrap?: (frames: WireFrame[]) => { frames: Unwrapped[]; evidence: Evidence };
  /** What the DUT's driver was handed, counted from its capture of wrapped frames. */
  handedDown?: (frames: WireFrame[], flow: ConnectionFlow) => HandedDown;
}

export function addresses(ctx: CheckContext, family: IpFamily): { src: string; dst: string } {
  return family === 4 ? { src: ctx.link.dut.ipv4, dst: ctx.link.peer.ipv4 } : { src: ctx.link.dut.ipv6, dst: ctx.link.peer.ipv6 };
}

export function describeCase(family: IpFamily, c: ConnectionCase): string {
  return `IPv${family} TCP, MSS ${c.mss ?? "the MTU's"}, timestamps ${c.timestamps ? 'on' : 'off'}, TCP_NODELAY ${c.nodelay ? 'on' : 'off'}`;
}

/** The MSS bound a segment must keep: TCP_MAXSEG when smaller than what the MTU allows. */
export function mssBound(family: IpFamily, mtu: number, mss?: number): number {
  const fromMtu = mtu - (family === 4 ? 20 : 40) - 20;
  return mss === undefined ? fromMtu : Math.min(mss, fromMtu);
}

async function startCapture(ctx: CheckContext, side: Side, ifname: string, snaplen?: number): Promise<string> {
  return (await ctx.dut.run(side, 'capture.start', { ifname, vnetHdr: true, snaplen })).id;
}

/** Runs one connection and judges it. */
export async function runConnection(ctx: CheckContext, p: ConnectionPlan, c: ConnectionCase): Promise<CheckOutcome> {
  const { src, dst } = p.via ?? addresses(ctx, p.family);
  const what = `${describeCase(p.family, c)}${p.via ? ` ${p.via.label}` : ''}`;
  await ctx.dut.run('dut', 'sysctl.set', { name: 'net.ipv4.tcp_timestamps', value: c.timestamps ? '1' : '0' });
  const { id: listener } = await ctx.dut.run('peer', 'tcp.listen', { family: p.family, addr: dst, port: p.dport });
  let listenerOpen = true;
  try {
    const peerCap = await startCapture(ctx, 'peer', p.via?.peerIf ?? ctx.link.peer.ifname);
    const dutCap = await startCapture(ctx, 'dut', p.via?.dutIf ?? ctx.link.dut.ifname, DUT_SNAPLEN).catch(async (e: unknown) => {
      await ctx.dut.run('peer', 'capture.stop', { id: peerCap, settleMs: 0 }).catch(() => undefined);
      throw e;
    });
    const started = Date.now();
    let sent: Awaited<ReturnType<typeof sendStream>> | undefined;
    let sendError: unknown;
    try {
      sent = await sendStream();
    } catch (e) {
      sendError = e;
    }
    const waitedMs = Date.now() - started;
    const peer = await ctx.dut.run(
      'peer',
      'capture.stop',
      { id: peerCap, expect: 1, settleMs: SETTLE_MS, timeoutMs: 2000, ignoreOutgoing: true },
      { timeoutMs: 60_000 },
    );
    const dut = await ctx.dut.run('dut', 'capture.stop', { id: dutCap, settleMs: 0 }, { timeoutMs: 60_000 });
    const received = await ctx.dut.run('peer', 'tcp.listenClose', { id: listener, expectSegsIn: sent?.info.dataSegsOut });
    listenerOpen = false;
    if (sendError !== undefined || !sent) throw sendError;
    // The bytes the DUT was asked to write: after a stall, the writes up to the stalled one.
    const writes = sent.writes;
    const attempted = writes.slice(0, sent.stalled ? sent.stalled.write + 1 : writes.length).reduce((a, b) => a + b, 0);
    const stream = streamBytes(
      p.seed,
      writes.reduce((a, b) => a + b, 0),
    ).subarray(0, attempted);
    const inner: ConnectionFlow = { family: p.family, src, dst, proto: 6, sport: p.sport, dport: p.dport };
    const flow = flowFilter(inner);
    // IP fragments of the flow carry no ports after the first: taken by addresses, they are judged as the fault they are.
    const fragment = flowFilter({ src, dst, proto: 6 });
    const mine = (f: WireFrame) => flow(f) || (f.parsed.ip?.fragment !== undefined && fragment(f));
    const wire = decodeCapture(peer.frames);
    let frames = wire.filter(mine);
    let wrapFaults: SegmentFault[] = [];
    let wrapping: Evidence | undefined;
    if (p.via?.unwrap) {
      const u = p.via.unwrap(wire);
      // A frame whose inner packet does not parse cannot be told apart from the flow: it counts against it.
      const ours = u.frames.filter((x) => !x.inner?.parsed.ip || mine(x.inner));
      frames = ours.flatMap((x) => (x.inner?.parsed.ip ? [x.inner] : []));
      wrapFaults = ours.flatMap((x) => (x.fault ? [{ index: x.index, part: 0, reason: x.fault }] : []));
      wrapping = u.evidence;
    }
    const mtu = p.via?.mtu ?? p.mtu;
    const expect = {
      family: p.family,
      stream,
      writes,
      mss: mssBound(p.family, mtu, c.mss),
      mtu,
      timestamps: sent.info.timestamps,
      mangleId: p.mangleId,
      ecn: sent.info.ecn,
      reset: sent.stalled !== undefined,
      shortSends: sent.shortSends,
    };
    const handed = decodeCapture(dut.frames.filter((f) => f.pkttype === PACKET_OUTGOING));
    const tally = judgeSegments(frames, expect);
    tally.faults.unshift(...wrapFaults);
    const outcome = connectionOutcome({
      what,
      expect,
      tally,
      received: { bytes: received.bytes, sha256: received.sha256 },
      retransmitted: sent.info.totalRetrans,
      dsackDups: sent.info.dsackDups,
      segments: connectionSegments(sent.info, received),
      stalled: sent.stalled ? { ...sent.stalled, waitedMs } : undefined,
      captureDropped: peer.dropped,
      handedDown: p.via?.handedDown ? p.via.handedDown(handed, inner) : handedDown(handed.filter(flow)),
    });
    if (wrapping) outcome.evidence.wrapping = wrapping;
    if (c.timestamps !== sent.info.timestamps) outcome.evidence.timestampsNegotiated = sent.info.timestamps;
    outcome.evidence.sndMss = sent.info.sndMss;
    if (sent.stalled) outcome.evidence.stalledAtWrite = sent.stalled.write + 1;
    if (outcome.status === 'fail') {
      const bad = new Set(tally.faults.map((f) => f.index));
      const offending = wire.filter((f) => bad.has(f.index)).map((f) => f.raw);
      outcome.evidence.pcap = await ctx.writePcap(
        `${p.family}-${c.mss ?? 'mtu'}-offending`,
        offending.length > 0 ? offending : peer.frames,
      );
    }
    return outcome;
  } finally {
    if (listenerOpen) await ctx.dut.run('peer', 'tcp.listenClose', { id: listener }).catch(() => undefined);
  }

  function sendStream() {
    return ctx.dut.run(
      'dut',
      'tcp.stream',
      {
        family: p.family,
        src,
        dst,
        sport: p.sport,
        dport: p.dport,
        seed: p.seed,
        writes: p.writes,
        mss: c.mss,
        nodelay: c.nodelay,
        ackTimeoutMs: ACK_TIMEOUT_MS,
      },
      { timeoutMs: ACK_TIMEOUT_MS * (p.writes.length + 2) + 30_000, signal: ctx.signal },
    );
  }
}

/** Super-frames among the frames the DUT's driver was handed. */
export function handedDown(frames: ReturnType<typeof decodeCapture>): HandedDown {
  let superFrames = 0;
  let superSegments = 0;
  for (const f of frames) {
    const g = f.raw.gsoSize ?? 0;
    const data = f.parsed.ip ? f.parsed.ip.offset + f.parsed.ip.totalLen - (f.parsed.payload?.offset ?? 0) : 0;
    if (g > 0 && data > g) {
      superFrames++;
      superSegments += Math.ceil(data / g);
    }
  }
  return { frames: frames.length, superFrames, superSegments };
}
