/**
 * One transmit round: the peer captures, the DUT sends, the peer's capture is
 * decoded and cut down to the flow. The judging happens elsewhere (pure).
 */
import type { ActionResult, CapturedFrame } from '../../agent/protocol.js';
import type { IpFamily } from '../../codec/index.js';
import { captureWhile, SETTLE_MS } from '../capture-round.js';
import { connectionSegments } from '../retransmits.js';
import type { DeliveredDatagram } from '../delivered.js';
import { nstatSince } from '../context.js';
import { counterDelta } from '../../agent/ethtool.js';
import type { CheckContext } from '../types.js';
import { decodeCapture, flowFilter, type WireFrame } from '../wire.js';

export function addresses(ctx: CheckContext, family: IpFamily): { src: string; dst: string } {
  return family === 4 ? { src: ctx.link.dut.ipv4, dst: ctx.link.peer.ipv4 } : { src: ctx.link.dut.ipv6, dst: ctx.link.peer.ipv6 };
}

/** Runs `send` while the peer captures (with vnet headers: partial frames show their offsets). */
export async function capturingAll(
  ctx: CheckContext,
  expect: number,
  send: () => Promise<unknown>,
): Promise<{ frames: CapturedFrame[]; dropped: number; sendError: unknown }> {
  return captureWhile(ctx, 'peer', expect, send, { vnetHdr: true });
}

/** Like capturingAll, but a failed send is the round's error. */
export async function capturing(ctx: CheckContext, expect: number, send: () => Promise<unknown>): Promise<CapturedFrame[]> {
  const { frames, sendError } = await capturingAll(ctx, expect, send);
  if (sendError) throw sendError;
  return frames;
}

export interface UdpRound {
  family: IpFamily;
  payloads: Buffer[];
  sport: number;
  dport: number;
  noChecksum?: boolean;
  ipOptions?: Buffer;
  ipv6DstOpts?: Buffer;
}

/** What one UDP transmit round saw: the wire at the peer, the peer's socket, and the loss the harness itself caused. */
export interface UdpRoundResult {
  frames: WireFrame[];
  raw: CapturedFrame[];
  /** Datagrams the peer's ordinary UDP socket received, in arrival order. */
  delivered: DeliveredDatagram[];
  /** Frames the peer's capture lost in its own kernel buffer. */
  captureDropped: number;
  /** Peer nstat and driver deltas over the round (its receive drops are the harness's loss). */
  peerCounters: Record<string, number>;
  peerDriver: Record<string, number>;
}

/** Sends datagrams through an ordinary DUT socket; the peer captures and its own socket receives them. */
/** Driver counters of one side's interface, as a delta from now. */
async function ethtoolStatsSince(ctx: CheckContext, side: 'dut' | 'peer'): Promise<() => Promise<Record<string, number>>> {
  const ifname = ctx.link[side].ifname;
  const before = await ctx.dut.run(side, 'ethtool.stats', { ifname });
  return async () => counterDelta(before, await ctx.dut.run(side, 'ethtool.stats', { ifname }));
}

export async function udpRound(ctx: CheckContext, r: UdpRound): Promise<UdpRoundResult> {
  const { src, dst } = addresses(ctx, r.family);
  const peerCounters = await nstatSince(ctx, 'peer');
  const peerDriver = await ethtoolStatsSince(ctx, 'peer');
  const { id } = await ctx.dut.run('peer', 'udp.recvStart', { family: r.family, addr: dst, port: r.dport });
  let stopped = false;
  try {
    const { frames: raw, dropped } = await capturingAll(ctx, r.payloads.length, () =>
      ctx.dut.run('dut', 'udp.send', {
        family: r.family,
        src,
        dst,
        sport: r.sport,
        dport: r.dport,
        payloads: r.payloads.map((p) => p.toString('base64')),
        noChecksum: r.noChecksum,
        ipOptions: r.ipOptions?.toString('base64'),
        ipv6DstOpts: r.ipv6DstOpts?.toString('base64'),
      }),
    ).then((x) => {
      if (x.sendError) throw x.sendError;
      return x;
    });
    // The capture already waited for the wire; what the socket has not got by now it will not get.
    const got = await ctx.dut.run('peer', 'udp.recvStop', { id, expect: r.payloads.length, settleMs: 0, timeoutMs: SETTLE_MS });
    stopped = true;
    const delivered = got.datagrams.map((d) => ({ family: r.family, payload: Buffer.from(d.data, 'base64'), from: d.from, port: d.port }));
    const frames = decodeCapture(raw).filter(flowFilter({ src, dst, proto: 17, sport: r.sport, dport: r.dport }));
    return { frames, raw, delivered, captureDropped: dropped, peerCounters: await peerCounters(), peerDriver: await peerDriver() };
  } finally {
    if (!stopped) await ctx.dut.run('peer', 'udp.recvStop', { id, settleMs: 0 }).catch(() => undefined);
  }
}

/** Writes each payload as its own segment over a TCP connection DUT → peer; returns the DUT → peer frames. */
export async function tcpRound(
  ctx: CheckContext,
  r: { family: IpFamily; payloads: Buffer[]; sport: number; dport: number },
): Promise<{
  frames: WireFrame[];
  raw: CapturedFrame[];
  received: { bytes: number; sha256: string };
  sendError: unknown;
  captureDropped: number;
  /** DUT nstat deltas over the connection (retransmissions). */
  dutCounters: Record<string, number>;
  /** Data segments the DUT's socket put out and the peer's got, every copy counted (TCP_INFO), when both were read. */
  segments?: { sent: number; received: number };
}> {
  const { src, dst } = addresses(ctx, r.family);
  const { id: listener } = await ctx.dut.run('peer', 'tcp.listen', { family: r.family, addr: dst, port: r.dport });
  // The source port is ours, so the frames of a connection that never came up can still be found.
  const sport = r.sport;
  let received: { bytes: number; sha256: string; dataSegsIn?: number } = { bytes: 0, sha256: '' };
  let sent: ActionResult<'tcp.send'> | undefined;
  try {
    // A connection that fails (its SYN carried a bad checksum) is judged on what reached the wire.
    const dutCounters = await nstatSince(ctx, 'dut');
    const {
      frames: raw,
      dropped,
      sendError,
    } = await capturingAll(ctx, r.payloads.length + 3, async () => {
      sent = await ctx.dut.run('dut', 'tcp.send', {
        family: r.family,
        src,
        dst,
        sport,
        dport: r.dport,
        payloads: r.payloads.map((p) => p.toString('base64')),
      });
    });
    const frames = decodeCapture(raw).filter(flowFilter({ src, dst, proto: 6, sport, dport: r.dport }));
    const got = await closeListener();
    const segments = connectionSegments(sent?.tcp, got);
    return {
      frames,
      raw,
      received: got,
      sendError,
      captureDropped: dropped,
      dutCounters: await dutCounters(),
      ...(segments ? { segments } : {}),
    };
  } finally {
    await closeListener().catch(() => undefined);
  }

  async function closeListener(): Promise<{ bytes: number; sha256: string; dataSegsIn?: number }> {
    if (received.sha256 !== '' || listener === '') return received;
    received = await ctx.dut.run('peer', 'tcp.listenClose', { id: listener, expectSegsIn: sent?.tcp?.dataSegsOut });
    return received;
  }
}

/** Sends hand-made frames through the DUT's AF_PACKET socket with a virtio_net_hdr each; `refused` are the frames its egress dropped. */
export async function vnetRound(
  ctx: CheckContext,
  frames: { frame: Buffer; csumStart: number; csumOffset: number }[],
): Promise<{ raw: CapturedFrame[]; refused: number[]; captureDropped: number }> {
  let refused: number[] = [];
  const {
    frames: raw,
    dropped,
    sendError,
  } = await capturingAll(ctx, frames.length, async () => {
    const r = await ctx.dut.run('dut', 'packet.send', {
      ifname: ctx.link.dut.ifname,
      frames: frames.map((f) => f.frame.toString('base64')),
      vnet: frames.map((f) => ({ flags: 1, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: f.csumStart, csumOffset: f.csumOffset })),
      refusals: 'count',
    });
    refused = r.refused ?? [];
  });
  if (sendError) throw sendError;
  return { raw, refused, captureDropped: dropped };
}
