/**
 * `tunnel-csum/*` transmit: the DUT sends UDP (inner IPv4 and IPv6) and TCP
 * through its tunnel device; the peer captures the encapsulated frames on its
 * interface and judges every level, and (when its kernel can decapsulate)
 * receives the inner payloads through ordinary sockets behind its own tunnel.
 */
import { createHash } from 'node:crypto';
import type { Evidence } from '../../../matrix/record.js';
import type { ActionResult } from '../../agent/protocol.js';
import { combineStatuses } from '../../../matrix/verdict.js';
import { IPPROTO_GRE, type EncapKind, type IpFamily } from '../../codec/index.js';
import { describeError } from '../../codec/errors.js';
import { createRng, type Rng } from '../../codec/random.js';
import { captureWhile, SETTLE_MS } from '../capture-round.js';
import { connectionSegments, judgeRetransmits, retransEvidence, retransFromNstat } from '../retransmits.js';
import { accountStream } from '../tx-csum/judge.js';
import { payloadLengths } from '../payloads.js';
import type { CheckContext, CheckOutcome } from '../types.js';
import { decodeCapture, frameHex, type WireFrame } from '../wire.js';
import { innerMatches, innerWireFrame, judgeTunnelFrames, matchPayloads, type InnerFlow, type TunnelExpect } from './judge.js';
import { INNER, missingModuleSkip, oneStackSkip, TUNNEL_VNI, withTunnels, type TunnelCase, type Tunnels } from './setup.js';

/** Datagrams per inner family, and TCP segments: a TCG guest sends them in a few seconds. */
export const UDP_PER_FAMILY = 40;
export const TCP_SEGMENTS = 30;
const MAX_EVIDENCE_FRAMES = 8;
/** The capture already waited for the frames: what the peer's socket has not got by then, it never will. */
const DELIVERY_WAIT_MS = 2000;

function encapKind(c: TunnelCase): EncapKind {
  return c.kind === 'ip6gre' ? 'gre' : c.kind;
}

export function expectOf(c: TunnelCase): TunnelExpect {
  const kind = encapKind(c);
  return {
    kind,
    outerCsum: kind === 'gre' ? false : c.udpCsum !== false,
    greCsum: c.greCsum === true,
    vni: kind === 'gre' ? undefined : TUNNEL_VNI,
  };
}

/** Frames of the outer flow DUT → peer of this tunnel. */
function outerFlow(ctx: CheckContext, c: TunnelCase): (f: WireFrame) => boolean {
  const src = c.outer === 4 ? ctx.link.dut.ipv4 : ctx.link.dut.ipv6;
  const dst = c.outer === 4 ? ctx.link.peer.ipv4 : ctx.link.peer.ipv6;
  const proto = encapKind(c) === 'gre' ? IPPROTO_GRE : 17;
  return (f) => f.parsed.ip?.src === src && f.parsed.ip.dst === dst && f.parsed.ip.proto === proto;
}

interface Part {
  what: string;
  problems: string[];
  /** The harness's own losses (its capture buffer dropped frames): an error, never the device's fault. */
  setup: string[];
  evidence: Evidence;
  offending: { frame: WireFrame; reason: string }[];
  /** Frames judged at every level, and how they were delivered. */
  frames: number;
  complete: number;
  innerPartial: number;
  outerPartial: number;
}

function judgeFlow(
  ctx: CheckContext,
  c: TunnelCase,
  all: WireFrame[],
  flow: InnerFlow,
): { part: Omit<Part, 'what' | 'problems' | 'setup' | 'evidence'>; mine: WireFrame[]; inner: WireFrame[]; faults: string[] } {
  const outer = all.filter(outerFlow(ctx, c));
  const { verdicts } = judgeTunnelFrames(outer, expectOf(c));
  const mine: WireFrame[] = [];
  const inner: WireFrame[] = [];
  const faults: string[] = [];
  const offending: { frame: WireFrame; reason: string }[] = [];
  // judgeTunnelFrames gives one verdict per frame of outer, in order.
  verdicts.forEach((v, k) => {
    const frame = outer[k]!;
    // A frame whose tunnel or inner headers no longer parse cannot be told apart from our flow: it counts against us.
    if (!v.encap || innerMatches(v.encap, flow) || !v.encap.innerParsed.ip) {
      mine.push(frame);
      if (v.encap) inner.push(innerWireFrame(frame, v.encap));
      if (v.fault) {
        faults.push(v.fault);
        offending.push({ frame, reason: v.fault });
      }
    }
  });
  const counted = (p: 'outer' | 'inner' | undefined) =>
    verdicts.filter((v, k) => mine.includes(outer[k]!) && !v.fault && v.partial === p).length;
  return {
    part: { offending, frames: mine.length, complete: counted(undefined), innerPartial: counted('inner'), outerPartial: counted('outer') },
    mine,
    inner,
    faults,
  };
}

async function udpPart(ctx: CheckContext, c: TunnelCase, t: Tunnels, rng: Rng, family: IpFamily, decap: boolean): Promise<Part> {
  const src = family === 4 ? INNER.dut.v4 : INNER.dut.v6;
  const dst = family === 4 ? INNER.peer.v4 : INNER.peer.v6;
  const sport = rng.int(30000, 39999);
  const dport = rng.int(20000, 29999);
  const max = t.mtu - (family === 4 ? 20 : 40) - 8;
  const lengths = payloadLengths(rng, UDP_PER_FAMILY, 0, max);
  const payloads = lengths.map((n) => rng.bytes(n));
  const what = `inner IPv${family} UDP`;
  const recv = decap ? (await ctx.dut.run('peer', 'udp.recvStart', { family, addr: dst, port: dport })).id : undefined;
  let delivered: Buffer[] = [];
  let cap: Awaited<ReturnType<typeof captureWhile>>;
  try {
    cap = await captureWhile(
      ctx,
      'peer',
      payloads.length,
      () => ctx.dut.run('dut', 'udp.send', { family, src, dst, sport, dport, payloads: payloads.map((p) => p.toString('base64')) }),
      { vnetHdr: true },
    );
  } finally {
    if (recv) {
      const r = await ctx.dut.run(
        'peer',
        'udp.recvStop',
        { id: recv, expect: payloads.length, settleMs: SETTLE_MS, timeoutMs: DELIVERY_WAIT_MS },
        { timeoutMs: DELIVERY_WAIT_MS + 30_000 },
      );
      delivered = r.datagrams.map((d) => Buffer.from(d.data, 'base64'));
    }
  }
  if (cap.sendError) throw cap.sendError;
  const all = decodeCapture(cap.frames);
  const j = judgeFlow(ctx, c, all, { family, src, dst, proto: 17, sport, dport });
  const problems: string[] = [];
  const setup: string[] = [];
  if (j.faults.length > 0) problems.push(`${j.faults.length} of ${j.part.frames} frames wrong (first: ${j.faults[0]})`);
  const onWire = matchPayloads(
    payloads,
    j.inner.map((f) => f.data.subarray(f.parsed.payload?.offset ?? 0, (f.parsed.payload?.offset ?? 0) + (f.parsed.payload?.length ?? 0))),
  );
  if (onWire.missing > 0 && cap.dropped > 0)
    setup.push(`${onWire.missing} of ${payloads.length} datagrams not in the peer's capture, which dropped ${cap.dropped} frame(s) itself`);
  else if (onWire.missing > 0) problems.push(`${onWire.missing} of ${payloads.length} datagrams never appeared on the wire`);
  if (onWire.unexpected > 0) problems.push(`${onWire.unexpected} inner datagram(s) on the wire match nothing sent (altered or duplicated)`);
  const evidence: Evidence = { sent: payloads.length, framesOnWire: j.part.frames, captureDropped: cap.dropped };
  if (decap) {
    const sock = matchPayloads(payloads, delivered);
    evidence.deliveredToPeerSocket = delivered.length;
    if (sock.missing > 0)
      problems.push(
        `the peer's socket behind its ${c.kind} device got ${payloads.length - sock.missing} of ${payloads.length} datagrams intact`,
      );
    if (sock.unexpected > 0) problems.push(`the peer's socket got ${sock.unexpected} datagram(s) that match nothing sent`);
  }
  return { what, problems, setup, evidence, ...j.part };
}

async function tcpPart(ctx: CheckContext, c: TunnelCase, t: Tunnels, rng: Rng): Promise<Part> {
  const family = 4;
  const src = INNER.dut.v4;
  const dst = INNER.peer.v4;
  const sport = rng.int(40000, 49999);
  const dport = rng.int(20000, 29999);
  // Room for IP, TCP and its timestamp option, so one payload is one segment.
  const lengths = payloadLengths(rng, TCP_SEGMENTS, 1, t.mtu - 20 - 20 - 12);
  const payloads = lengths.map((n) => rng.bytes(n));
  const stream = Buffer.concat(payloads);
  const what = 'inner IPv4 TCP';
  const { id } = await ctx.dut.run('peer', 'tcp.listen', { family, addr: dst, port: dport });
  let received: { bytes: number; sha256: string; dataSegsIn?: number } = { bytes: 0, sha256: '' };
  const before = await ctx.dut.run('dut', 'nstat.read', {});
  let cap: Awaited<ReturnType<typeof captureWhile>>;
  let sent: ActionResult<'tcp.send'> | undefined;
  try {
    cap = await captureWhile(
      ctx,
      'peer',
      payloads.length + 3,
      async () =>
        (sent = await ctx.dut.run('dut', 'tcp.send', {
          family,
          src,
          dst,
          sport,
          dport,
          payloads: payloads.map((p) => p.toString('base64')),
        })),
      { vnetHdr: true },
    );
  } finally {
    received = await ctx.dut.run('peer', 'tcp.listenClose', { id, expectSegsIn: sent?.tcp?.dataSegsOut });
  }
  const after = await ctx.dut.run('dut', 'nstat.read', {});
  const all = decodeCapture(cap.frames);
  const j = judgeFlow(ctx, c, all, { family, src, dst, proto: 6, sport, dport });
  const problems: string[] = [];
  if (j.faults.length > 0) problems.push(`${j.faults.length} of ${j.part.frames} frames wrong (first: ${j.faults[0]})`);
  if (cap.sendError) problems.push(`the connection failed: ${describeError(cap.sendError)}`);
  const acct = accountStream(stream, j.inner);
  const setup: string[] = [];
  if (!acct.ok && cap.dropped > 0)
    setup.push(`inner byte stream on the wire: ${acct.reason ?? ''} (the peer's capture dropped ${cap.dropped} frame(s) itself)`);
  else if (!acct.ok) problems.push(`inner byte stream on the wire: ${acct.reason ?? ''}`);
  const sha = createHash('sha256').update(stream).digest('hex');
  if (received.bytes !== stream.length || received.sha256 !== sha)
    problems.push(
      `the peer's socket received ${received.bytes} bytes (sha256 ${received.sha256.slice(0, 12)}), ${stream.length} were written (sha256 ${sha.slice(0, 12)})`,
    );
  const evidence: Evidence = { sent: payloads.length, bytes: stream.length, framesOnWire: j.part.frames, captureDropped: cap.dropped };
  const rt = retransFromNstat(before, after);
  if (rt) {
    const segments = connectionSegments(sent?.tcp, received);
    const r = judgeRetransmits({ bytes: stream.length, retransSegs: rt.retransSegs, detail: rt.detail, what, segments });
    evidence.retransmits = retransEvidence(r);
    if (!r.ok) problems.push(r.message);
  }
  return { what, problems, setup, evidence, ...j.part };
}

/** Runs one transmit case: skip when the DUT's kernel lacks the tunnel, capture-only when the peer's does. */
export async function runTunnelTx(ctx: CheckContext, c: TunnelCase, title: string): Promise<CheckOutcome> {
  if (ctx.link.sameInterface) return oneStackSkip(title, c);
  return withTunnels(ctx, c, async (t) => {
    if (t.dutMissing) return missingModuleSkip(title, c, t.dutMissing);
    const rng = createRng(ctx.seed);
    const decap = t.peerMissing === undefined;
    const parts = [await udpPart(ctx, c, t, rng, 4, decap), await udpPart(ctx, c, t, rng, 6, decap)];
    if (decap) parts.push(await tcpPart(ctx, c, t, rng));
    return tunnelOutcome(ctx, title, parts, t);
  });
}

async function tunnelOutcome(ctx: CheckContext, title: string, parts: Part[], t: Tunnels): Promise<CheckOutcome> {
  const sum = (k: 'frames' | 'complete' | 'innerPartial' | 'outerPartial') => parts.reduce((n, p) => n + p[k], 0);
  const offending = parts.flatMap((p) => p.offending);
  const evidence: Evidence = {
    tunnelMtu: t.mtu,
    decapsulatedByPeer: t.peerMissing === undefined,
    framesOnWire: sum('frames'),
    completeChecksums: sum('complete'),
    innerPartial: sum('innerPartial'),
    outerPartial: sum('outerPartial'),
    parts: Object.fromEntries(parts.map((p) => [p.what, p.evidence])),
  };
  if (offending.length > 0) {
    evidence.frames = offending.slice(0, MAX_EVIDENCE_FRAMES).map((o) => ({ hex: frameHex(o.frame.data), reason: o.reason }));
    evidence.pcap = await ctx.writePcap(
      'offending',
      offending.map((o) => o.frame.raw),
    );
  }
  const captureOnly = t.peerMissing
    ? ` (judged from the capture alone: the peer's kernel cannot decapsulate, kernel module ${t.peerMissing} missing)`
    : '';
  if (t.peerMissing) evidence.peerMissingModule = t.peerMissing;
  const problems = parts.flatMap((p) => p.problems.map((x) => `${p.what}: ${x}`));
  const setup = parts.flatMap((p) => p.setup.map((x) => `${p.what}: ${x}`));
  if (problems.length > 0 || setup.length > 0) {
    const status = combineStatuses([...(problems.length > 0 ? ['fail' as const] : []), ...(setup.length > 0 ? ['error' as const] : [])]);
    return { status, message: `${title}: ${[...problems, ...setup].join('; ')}${captureOnly}`, evidence };
  }
  const how = [
    `${sum('complete')} with every checksum complete and right`,
    ...(sum('innerPartial') > 0
      ? [`${sum('innerPartial')} with the inner checksum left partial (right seed; every other level right once it is completed)`]
      : []),
    ...(sum('outerPartial') > 0 ? [`${sum('outerPartial')} with the outer UDP checksum left partial (right seed)`] : []),
  ];
  const through = t.peerMissing ? '' : ", every payload intact through the peer's sockets";
  return { status: 'pass', message: `${title}: ${sum('frames')} frames: ${how.join(', ')}${through}${captureOnly}`, evidence };
}
