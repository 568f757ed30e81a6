/** RX checksum cases: what the peer injects, and the judging of what the DUT did with it. */
import { makeTci, type IpFamily, type VlanSpec } from '../../codec/index.js';
import { describeError } from '../../codec/errors.js';
import { createRng, type Rng } from '../../codec/random.js';
import { lengthSummary, maxUdpPayload, PACKETS_PER_CASE, payloadLengths } from '../payloads.js';
import type { CheckContext, CheckOutcome } from '../types.js';
import { judgeRx } from './judge.js';
import { offendingFrames, rxOutcome } from './outcome.js';
import { planFrames, type FrameSpec, type PlannedFrame, type RxFlow, type RxKind } from './plan.js';
import { judgeTcpRx } from './tcp-judge.js';
import { tcpRxRound } from './tcp-round.js';
import { udpRxRound } from './udp-round.js';
import { arrivalCounts } from '../arrival.js';
import { injectionAccounting } from '../inject.js';

/** A group of frames in a case: this many of this kind, untagged, priority-tagged (VID 0) or tagged with a VLAN the DUT has no interface for. */
export interface FrameGroup {
  family: IpFamily;
  kind: RxKind;
  count: number;
  tag?: 'priority' | 'vlan';
}

const ETH_P_8021Q = 0x8100;

/** What the DUT's receive path ran with (as the variant asked, and as it took). */
function receiveFlags(ctx: CheckContext): { rxOffloadOff: boolean; groOn: boolean } {
  return {
    rxOffloadOff: ctx.features['rx-checksumming']?.active === false,
    groOn: ctx.features['generic-receive-offload']?.active === true,
  };
}

function flows(ctx: CheckContext, rng: Rng): Record<IpFamily, RxFlow> {
  const sport = rng.int(30000, 39999);
  const dport = rng.int(20000, 29999);
  const { peer, dut } = ctx.link;
  const base = { srcMac: peer.mac, dstMac: dut.mac, sport, dport };
  return { 4: { ...base, family: 4, src: peer.ipv4, dst: dut.ipv4 }, 6: { ...base, family: 6, src: peer.ipv6, dst: dut.ipv6 } };
}

/** Runs one datagram case: the groups' frames in a seeded order, judged as a whole. */
export async function runUdpRx(ctx: CheckContext, what: string, groups: readonly FrameGroup[]): Promise<CheckOutcome> {
  const rng = createRng(ctx.seed);
  const fl = flows(ctx, rng);
  const vid = rng.int(2, 4094);
  const mtu = Math.min(ctx.link.dut.mtu, ctx.link.peer.mtu);
  const items: { spec: FrameSpec; len: number }[] = [];
  for (const g of groups) {
    const lengths = payloadLengths(rng, g.count, 0, maxUdpPayload(g.family, mtu, g.tag ? 4 : 0));
    for (const len of lengths) {
      const vlan: VlanSpec[] | undefined =
        g.tag === undefined ? undefined : [{ tpid: ETH_P_8021Q, tci: makeTci(g.tag === 'priority' ? 0 : vid, rng.int(0, 7)) }];
      items.push({ spec: { kind: g.kind, flow: fl[g.family], vlan }, len });
    }
  }
  const order = rng.shuffle(items);
  const planned = planFrames(
    rng,
    order.map((o) => o.spec),
    order.map((o) => o.len),
  );
  const families = [...new Set(groups.map((g) => g.family))];
  const receivers = families.map((f) => ({ family: f, addr: fl[f].dst, port: fl[f].dport }));
  // Frames of a VLAN the DUT has no interface for may stop at a device's VLAN filter: that drop is the filter's job.
  const filtering = ctx.features['rx-vlan-filter']?.active === true;
  const needed = (p: PlannedFrame) => !(p.kind === 'other-vlan' && filtering);
  const r = await udpRxRound(ctx, planned, receivers, (i) => needed(planned[i]!));
  const inj = r.injection;
  const must = planned.filter(needed).map((p) => p.index);
  const tally = judgeRx({
    planned,
    sent: inj.sent,
    delivered: r.delivered,
    captured: inj.dutIn,
    counters: r.counters,
    arrivals: { traces: inj.traces, must, dutLoss: inj.dutLoss, captureDropped: inj.captureDropped, peerLoss: inj.peerLoss },
  });
  const outcome = rxOutcome(
    what,
    tally,
    planned,
    {
      lengths: lengthSummary(order.map((o) => o.len)),
      ...(groups.some((g) => g.tag === 'vlan') ? { vlanId: vid } : {}),
      accounting: injectionAccounting(inj, r.delivered.length),
    },
    { ...receiveFlags(ctx), vlanFilterFixed: filtering && ctx.features['rx-vlan-filter']?.fixed === true },
  );
  await attachPcap(ctx, outcome, planned, offendingFrames(tally));
  return outcome;
}

/** Runs one TCP case on a connection the peer opened: 100 good segments, each after a corrupted copy. */
export async function runTcpRx(ctx: CheckContext, what: string, family: IpFamily): Promise<CheckOutcome> {
  const rng = createRng(ctx.seed);
  const dport = rng.int(20000, 29999);
  const { peer, dut } = ctx.link;
  const ends = {
    family,
    peerMac: peer.mac,
    dutMac: dut.mac,
    peer: family === 4 ? peer.ipv4 : peer.ipv6,
    dut: family === 4 ? dut.ipv4 : dut.ipv6,
    dport,
  };
  let lengths: number[] = [];
  const r = await tcpRxRound(ctx, ends, (max) => (lengths = payloadLengths(rng, PACKETS_PER_CASE, 1, max)), rng.u32());
  if ('connectError' in r) {
    return {
      status: 'fail',
      message: `${what}: the peer could not open a TCP connection to the DUT's listener: ${describeError(r.connectError)}`,
      evidence: {},
    };
  }
  const tally = judgeTcpRx({
    planned: r.planned,
    segs: r.segs,
    captured: r.captured,
    counters: r.counters,
    stream: r.stream,
    want: r.want,
    arrivals: r.arrivals,
  });
  const outcome = rxOutcome(
    what,
    tally,
    r.planned,
    {
      lengths: lengthSummary(lengths),
      streamBytes: r.want.bytes,
      socketBytes: r.stream.bytes,
      socketSha256: r.stream.sha256,
      wantSha256: r.want.sha256,
      rounds: r.rounds,
      resent: r.resent,
      timestamps: r.hs.ts !== undefined,
      // Every corrupted copy sent is accounted for: where each one got to.
      badCopies: arrivalCounts(r.arrivals.must.map((i) => r.arrivals.traces[i]!)),
    },
    receiveFlags(ctx),
  );
  await attachPcap(ctx, outcome, r.planned, offendingFrames(tally));
  return outcome;
}

async function attachPcap(ctx: CheckContext, outcome: CheckOutcome, planned: readonly PlannedFrame[], offending: number[]): Promise<void> {
  if (offending.length === 0) return;
  const frames = offending.map((i) => ({
    data: planned[i]!.frame.toString('base64'),
    len: planned[i]!.frame.length,
    status: 0,
    pkttype: 0,
    vlanTci: 0,
    vlanTpid: 0,
    tsNs: 0,
  }));
  outcome.evidence.pcap = await ctx.writePcap('offending', frames);
}
