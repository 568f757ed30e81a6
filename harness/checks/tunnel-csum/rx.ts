/**
 * `tunnel-csum/*` receive: the peer injects encapsulated UDP datagrams (inner
 * IPv4 and IPv6) toward the DUT's tunnel: good ones, ones whose inner checksum
 * is wrong (outer right), ones whose outer UDP or GRE checksum is wrong (inner
 * right). The DUT must deliver the good and drop the bad, counting what its
 * kernel counts. Its capture on the interface under test proves each frame
 * arrived byte for byte; a second capture on its tunnel device records what
 * the device claimed of the inner checksum (TP_STATUS_CSUM_VALID per level).
 */
import {
  buildGeneveFrame,
  buildGreFrame,
  buildVxlanFrame,
  ETH_P_IPV4,
  ETH_P_IPV6,
  ETH_HLEN,
  ipPacketOf,
  parseEncap,
  verifyGreChecksum,
  verifyL4,
  type IpFamily,
} from '../../codec/index.js';
import { createRng, type Rng } from '../../codec/random.js';
import { NicmatrixError } from '../../codec/errors.js';
import type { CapturedFrame } from '../../agent/protocol.js';
import { judgeRx, sightings } from '../rx-csum/judge.js';
import { offendingFrames, rxOutcome } from '../rx-csum/outcome.js';
import { ipPacketKey, planFrames, wrongChecksum, type FrameSpec, type PlannedFrame, type RxFlow, type RxKind } from '../rx-csum/plan.js';
import { udpRxRound } from '../rx-csum/udp-round.js';
import { injectionAccounting } from '../inject.js';
import { lengthSummary, payloadLengths } from '../payloads.js';
import type { CheckContext, CheckOutcome } from '../types.js';
import { decodeCapture, type WireFrame } from '../wire.js';
import { INNER, missingModuleSkip, oneStackSkip, TUNNEL_VNI, withTunnels, type TunnelCase, type Tunnels } from './setup.js';

/** Frames of each kind per inner family. */
export const RX_PER_KIND = 25;

/** A planned inner frame wrapped for the tunnel, with the key of its inner packet. */
export interface TunnelPlanned extends PlannedFrame {
  innerKey: string;
  /** The inner checksum is right (a device may report the inner level valid). */
  innerOk: boolean;
}

function outerEnds(ctx: CheckContext, c: TunnelCase) {
  const { peer, dut } = ctx.link;
  return {
    srcMac: peer.mac,
    dstMac: dut.mac,
    family: c.outer,
    src: c.outer === 4 ? peer.ipv4 : peer.ipv6,
    dst: c.outer === 4 ? dut.ipv4 : dut.ipv6,
  };
}

/** Wraps an inner Ethernet frame for the tunnel; `bad` breaks the outer UDP or GRE checksum. */
export function encapsulate(rng: Rng, ctx: CheckContext, c: TunnelCase, inner: Buffer, sport: number, bad: boolean): Buffer {
  const o = outerEnds(ctx, c);
  if (c.kind === 'gre' || c.kind === 'ip6gre') {
    const ip = ipPacketOf(inner);
    const first = ip[0];
    if (first === undefined) throw new NicmatrixError('INTERNAL', 'encapsulate: expected an IP packet in the inner frame, found none');
    const protocol = first >> 4 === 4 ? ETH_P_IPV4 : ETH_P_IPV6;
    const good = buildGreFrame({ ...o, gre: { protocol, checksum: c.greCsum ? 'correct' : undefined }, inner: ip });
    if (!bad) return good;
    const encap = parseEncap(good).encap!;
    return buildGreFrame({ ...o, gre: { protocol, checksum: wrongChecksum(rng, verifyGreChecksum(good, encap).expected) }, inner: ip });
  }
  const checksum = c.udpCsum === false && c.outer === 4 ? ('zero' as const) : ('correct' as const);
  const build = (cs: 'zero' | 'correct' | number) =>
    c.kind === 'vxlan'
      ? buildVxlanFrame({ ...o, sport, vni: TUNNEL_VNI, inner, checksum: cs })
      : buildGeneveFrame({ ...o, sport, geneve: { vni: TUNNEL_VNI }, inner, checksum: cs });
  const good = build(checksum);
  return bad ? build(wrongChecksum(rng, verifyL4(good).expected)) : good;
}

/** The plan: inner good and bad-l4 of both families, plus the outer kind the tunnel can carry wrong. */
export function planTunnelRx(rng: Rng, ctx: CheckContext, c: TunnelCase, t: Tunnels): TunnelPlanned[] {
  const sport = rng.int(30000, 39999);
  const dport = rng.int(20000, 29999);
  const outerSport = rng.int(40000, 49999);
  const flow = (family: IpFamily): RxFlow => ({
    family,
    srcMac: INNER.peer.mac,
    dstMac: INNER.dut.mac,
    src: family === 4 ? INNER.peer.v4 : INNER.peer.v6,
    dst: family === 4 ? INNER.dut.v4 : INNER.dut.v6,
    sport,
    dport,
  });
  const outerKind: RxKind | undefined =
    c.kind === 'gre' || c.kind === 'ip6gre' ? (c.greCsum ? 'bad-gre' : undefined) : c.udpCsum === false ? undefined : 'bad-outer';
  const kinds: RxKind[] = ['good', 'bad-l4', ...(outerKind ? [outerKind] : [])];
  const specs: FrameSpec[] = [];
  const lengths: number[] = [];
  for (const family of [4, 6] as const)
    for (const kind of kinds) {
      const max = t.mtu - (family === 4 ? 20 : 40) - 8;
      for (const n of payloadLengths(rng, RX_PER_KIND, 0, max)) {
        // The inner frame of an outer fault is a good one: only the outer level is wrong.
        specs.push({ kind: kind === outerKind ? 'good' : kind, flow: flow(family) });
        lengths.push(n);
      }
    }
  // specs and lengths were pushed together, one each.
  const order = rng.shuffle(specs.map((s, i) => ({ s, n: lengths[i]!, outer: i })));
  const innerPlan = planFrames(
    rng,
    order.map((o) => o.s),
    order.map((o) => o.n),
  );
  // planFrames numbered kinds as given; the outer fault is set here, after the inner frame exists.
  const perFamily = specs.length / 2;
  return innerPlan.map((p, i) => {
    // planFrames made one frame per entry of order.
    const k = order[i]!.outer % perFamily;
    const kind: RxKind = k >= 2 * RX_PER_KIND ? outerKind! : p.kind;
    const bad = kind === 'bad-outer' || kind === 'bad-gre';
    const frame = encapsulate(rng, ctx, c, p.frame, outerSport, bad);
    const outerFamilyCounter = c.outer === 4 ? 'UdpInCsumErrors' : 'Udp6InCsumErrors';
    return {
      ...p,
      kind,
      frame,
      key: ipPacketKey(frame)!,
      innerKey: p.key,
      innerOk: p.csumOk,
      expect: bad || p.kind === 'bad-l4' ? 'drop' : 'deliver',
      // What the device may call valid at the level the capture on the interface under test shows: the outer one.
      csumOk: !bad,
      counter: kind === 'bad-outer' ? outerFamilyCounter : kind === 'bad-gre' ? undefined : p.counter,
    };
  });
}

/** Inner frames as captured on the tunnel device; an L3 tunnel's get a made-up Ethernet header. */
function innerCapture(frames: readonly CapturedFrame[], l2: boolean): CapturedFrame[] {
  if (l2) return [...frames];
  return frames.map((f) => {
    const data = Buffer.from(f.data, 'base64');
    // An empty frame is no IP packet: left as captured.
    const v = (data[0] ?? 0) >> 4;
    if (v !== 4 && v !== 6) return f;
    const eth = Buffer.alloc(ETH_HLEN);
    eth.writeUInt16BE(v === 4 ? ETH_P_IPV4 : ETH_P_IPV6, 12);
    return { ...f, data: Buffer.concat([eth, data]).toString('base64') };
  });
}

/**
 * Bad inner frames the tunnel device's capture flagged TP_STATUS_CSUM_VALID,
 * recorded per level and never judged on their own: the flag is the skb's
 * csum_valid bit, which the stack sets itself when it validates the outer
 * checksum (from the device's CHECKSUM_UNNECESSARY too) and which survives
 * decapsulation (udp_tunnel's checksum conversion). A device that really
 * vouches for the inner level (csum_level >= 1) makes the stack skip the
 * inner check: the bad datagram is then delivered, or not counted, and that
 * is the fault (`delivered-bad`, `uncounted`).
 */
export function innerValidBad(
  planned: readonly TunnelPlanned[],
  inner: readonly WireFrame[],
  outerValid: readonly number[],
): { bothLevels: number; innerOnly: number } {
  const byKey = new Map(planned.map((p) => [p.innerKey, p]));
  let bothLevels = 0;
  let innerOnly = 0;
  for (const f of inner) {
    const p = byKey.get(ipPacketKey(f.data) ?? '');
    if (!p || p.innerOk || !f.csumValid) continue;
    if (outerValid[p.index]! > 0) bothLevels++;
    else innerOnly++;
  }
  return { bothLevels, innerOnly };
}

export async function runTunnelRx(ctx: CheckContext, c: TunnelCase, title: string): Promise<CheckOutcome> {
  if (ctx.link.sameInterface) return oneStackSkip(title, c);
  return withTunnels(ctx, c, async (t) => {
    if (t.dutMissing) return missingModuleSkip(title, c, t.dutMissing);
    const rng = createRng(ctx.seed);
    const planned = planTunnelRx(rng, ctx, c, t);
    const receivers = ([4, 6] as const).map((family) => ({
      family,
      addr: family === 4 ? INNER.dut.v4 : INNER.dut.v6,
      port: innerPort(planned, family),
    }));
    const { id } = await ctx.dut.run('dut', 'capture.start', { ifname: t.ifname });
    let innerRaw: CapturedFrame[] = [];
    let r: Awaited<ReturnType<typeof udpRxRound>>;
    try {
      r = await udpRxRound(ctx, planned, receivers);
    } finally {
      innerRaw = (await ctx.dut.run('dut', 'capture.stop', { id, settleMs: 0, ignoreOutgoing: true })).frames;
    }
    const inner = decodeCapture(innerCapture(innerRaw, t.l2));
    const inj = r.injection;
    const tally = judgeRx({
      planned,
      sent: inj.sent,
      delivered: r.delivered,
      captured: inj.dutIn,
      counters: r.counters,
      arrivals: { traces: inj.traces, must: planned.map((p) => p.index), dutLoss: inj.dutLoss, captureDropped: inj.captureDropped },
    });
    const vb = innerValidBad(planned, inner, sightings(planned, inj.dutIn).valid);
    const innerGood = planned.filter((p) => p.innerOk && p.expect === 'deliver').map((p) => p.innerKey);
    const innerValid = inner.filter((f) => f.csumValid && innerGood.includes(ipPacketKey(f.data) ?? '')).length;
    const outcome = rxOutcome(
      title,
      tally,
      planned,
      {
        lengths: lengthSummary(planned.map((p) => p.payload.length)),
        accounting: injectionAccounting(inj, r.delivered.length),
        innerFramesOnTunnelDevice: inner.length,
        innerGoodReportedValid: `${innerValid} of ${innerGood.length}`,
        // PACKET_AUXDATA per level for bad inner frames (see innerValidBad: evidence, the delivery and the counters judge).
        innerBadFlaggedValid: { alsoOuter: vb.bothLevels, innerOnly: vb.innerOnly },
      },
      { rxOffloadOff: ctx.features['rx-checksumming']?.active === false, groOn: ctx.features['generic-receive-offload']?.active === true },
    );
    const bad = offendingFrames(tally);
    if (bad.length > 0)
      outcome.evidence.pcap = await ctx.writePcap(
        'offending',
        bad.map((i) => ({
          data: planned[i]!.frame.toString('base64'),
          len: planned[i]!.frame.length,
          status: 0,
          pkttype: 0,
          vlanTci: 0,
          vlanTpid: 0,
          tsNs: 0,
        })),
      );
    return outcome;
  });
}

function innerPort(planned: readonly TunnelPlanned[], family: IpFamily): number {
  const p = planned.find((x) => x.family === family)!;
  const parsed = parseEncap(p.frame).encap!.innerParsed;
  return parsed.l4!.dport!;
}
