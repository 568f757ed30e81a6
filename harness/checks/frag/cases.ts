/** Fragment cases: crafted fragment sets injected toward the DUT, and large datagrams through both sides' sockets. */
import type { IpFamily } from '../../codec/index.js';
import { createRng, type Rng } from '../../codec/random.js';
import type { CheckContext, CheckOutcome } from '../types.js';
import { injectionAccounting } from '../inject.js';
import {
  datagramOfFrames,
  fragmentArrivals,
  judgeCounters,
  judgeSentFrames,
  judgeDelivery,
  reassemblyCounters,
  type CounterRule,
  type ExpectedDatagram,
  type FragFault,
  type FragTally,
} from './judge.js';
import { asArrivedPayloads } from './as-arrived.js';
import { fragOutcome, sizeSummary } from './outcome.js';
import { arrange, makeDatagram, maxFragSize, overlapping, withoutOne, type Arrangement, type FragDatagram, type FragFlow } from './plan.js';
import { injectRound, socketRound, type InjectResult, type SocketRoundResult } from './rounds.js';
import { arrivalFaults, overRate, traceArrivals } from '../arrival.js';

/** Datagrams per crafted case. */
const DATAGRAMS = 8;
/** Largest crafted datagram: fragments of 8 such stay well under a device's ring. */
const MAX_CRAFTED = 16384;
/** NFS-style sizes every socket case sends, beside random ones. */
const NFS_SIZES = [1536, 8192, 32768];
const RANDOM_SIZES = 12;
/** Reassembly time (s) during the missing-fragment case, instead of the default 30 s. */
export const SHORT_REASM_TIME_S = 3;
/** Slack on top of the reassembly time for the timeout counter to move (a TCG guest is slow). */
const REASM_SLACK_MS = 30_000;

const V = (f: IpFamily) => `IPv${f}`;

function setup(ctx: CheckContext, family: IpFamily): { rng: Rng; flow: FragFlow; maxFrag: number } {
  const rng = createRng(ctx.seed);
  const { peer, dut } = ctx.link;
  const flow: FragFlow = {
    family,
    srcMac: peer.mac,
    dstMac: dut.mac,
    src: family === 4 ? peer.ipv4 : peer.ipv6,
    dst: family === 4 ? dut.ipv4 : dut.ipv6,
    sport: rng.int(30000, 39999),
    dport: rng.int(20000, 29999),
  };
  return { rng, flow, maxFrag: maxFragSize(family, Math.min(dut.mtu, peer.mtu)) };
}

/** Datagrams of 3+ fragments each: 8 KiB first, the rest random up to 16 KiB, fragment sizes random. */
function datagrams(
  rng: Rng,
  flow: FragFlow,
  maxFrag: number,
  n: number,
  checksum: (i: number) => 'correct' | 'zero' | 'bad' = () => 'correct',
  fragSlack = 0,
): FragDatagram[] {
  const ids = new Set<number>();
  return Array.from({ length: n }, (_, i) => {
    const fragSize = 8 * rng.int(Math.max(2, Math.floor(maxFrag / 16)), Math.floor((maxFrag - fragSlack) / 8));
    const size = i === 0 ? 8192 : rng.int(3 * fragSize, MAX_CRAFTED);
    return makeDatagram(rng, flow, i, Math.max(size, 3 * fragSize), fragSize, checksum(i), ids);
  });
}

function receiverOf(flow: FragFlow) {
  return { family: flow.family, addr: flow.dst, port: flow.dport };
}

function injected(r: InjectResult, extra: Record<string, unknown> = {}) {
  return { accounting: injectionAccounting(r.injection, r.delivered.length), reassembly: reassemblyCounters(r.counters), ...extra };
}

/** What the DUT delivered, judged only for datagrams whose fragments all reached it; the rest are arrival faults. */
function judgeInjected(
  ds: readonly FragDatagram[],
  frames: readonly Buffer[],
  r: InjectResult,
): { tally: FragTally; arrival: FragFault[] } {
  const plain = judgeDelivery(ds, r.delivered);
  const delivered = new Set(ds.filter((d) => plain.fate[d.index] !== 'dropped').map((d) => d.index));
  const inj = r.injection;
  const owner = datagramOfFrames(ds, frames);
  const a = fragmentArrivals(owner, inj.traces, delivered, inj.dutLoss, inj.captureDropped, inj.peerLoss);
  return { tally: judgeDelivery(ds, r.delivered, a.notArrived, asArrivedPayloads(frames, owner, inj.traces)), arrival: a.faults };
}

/** In order, reversed, shuffled, duplicated: every datagram delivered once, intact. */
export async function runArranged(ctx: CheckContext, family: IpFamily, how: Arrangement): Promise<CheckOutcome> {
  const { rng, flow, maxFrag } = setup(ctx, family);
  const ds = datagrams(rng, flow, maxFrag, DATAGRAMS);
  const frames = arrange(rng, ds, how);
  const r = await injectRound(ctx, frames, receiverOf(flow), ds.length);
  const { tally, arrival } = judgeInjected(ds, frames, r);
  return fragOutcome(
    `${V(family)} fragments ${how}`,
    tally,
    arrival,
    'delivered once, intact',
    injected(r, { sizes: sizeSummary(ds.map((d) => d.payload.length)) }),
  );
}

/** Overlapping fragments: IPv6 drops the datagram (RFC 5722); IPv4 may drop it or deliver a consistent reading. */
export async function runOverlap(ctx: CheckContext, family: IpFamily): Promise<CheckOutcome> {
  const { rng, flow, maxFrag } = setup(ctx, family);
  // IPv4 without a UDP checksum, so what is delivered shows the reassembly itself; room for the longer fragment.
  const ds = datagrams(rng, flow, maxFrag, DATAGRAMS / 2 + 2, () => (family === 4 ? 'zero' : 'correct'), 32);
  const frames: Buffer[] = [];
  const overlaps = ds.map((d, i) => {
    const o = overlapping(rng, d, i % 2 === 0);
    d.expect = family === 4 ? 'either' : 'drop';
    frames.push(...o.frames);
    return { at: o.at, bytes: o.bytes, differ: i % 2 === 0 };
  });
  const r = await injectRound(ctx, frames, receiverOf(flow), 0);
  const { tally, arrival } = judgeInjected(ds, frames, r);
  const words = family === 4 ? 'dropped or delivered as one consistent reading' : 'dropped whole (RFC 5722)';
  return fragOutcome(`${V(family)} overlapping fragments`, tally, arrival, words, injected(r, { overlaps }));
}

/** One fragment missing: nothing delivered, and the reassembly timeout counted (reassembly time shortened meanwhile). */
export async function runMissing(ctx: CheckContext, family: IpFamily): Promise<CheckOutcome> {
  const { rng, flow, maxFrag } = setup(ctx, family);
  const ds = datagrams(rng, flow, maxFrag, DATAGRAMS / 2 + 2);
  const frames: Buffer[] = [];
  const missing = ds.map((d) => {
    d.expect = 'drop';
    const w = withoutOne(rng, d);
    frames.push(...w.frames);
    return w.missing;
  });
  const p = family === 4 ? 'Ip' : 'Ip6';
  const rules: CounterRule[] = [
    { names: [`${p}ReasmTimeout`, `${p}ReasmFails`], min: ds.length, why: `${ds.length} incomplete datagrams timing out` },
    { names: [`${p}ReasmFails`], min: ds.length, why: `${ds.length} incomplete datagrams` },
  ];
  const sysctl = family === 4 ? 'net.ipv4.ipfrag_time' : 'net.ipv6.ip6frag_time';
  const r = await injectRound(ctx, frames, receiverOf(flow), 0, {
    sysctls: { [sysctl]: String(SHORT_REASM_TIME_S) },
    waitFor: { rules, timeoutMs: SHORT_REASM_TIME_S * 1000 + REASM_SLACK_MS },
  });
  const { tally, arrival } = judgeInjected(ds, frames, r);
  const reasmTime = { sysctl, setTo: SHORT_REASM_TIME_S, was: r.previous[sysctl] };
  const more = judgeCounters(rules, r.counters, r.known);
  return fragOutcome(
    `${V(family)} with a fragment missing`,
    tally,
    [...arrival, ...more],
    `not delivered, reassembly timeouts counted (${sysctl} ${SHORT_REASM_TIME_S} s during the check)`,
    injected(r, { missingFragment: missing, reassemblyTime: reasmTime }),
  );
}

/** A fragmented datagram with a bad UDP checksum is dropped and counted; good ones beside it are delivered. */
export async function runBadChecksum(ctx: CheckContext, family: IpFamily): Promise<CheckOutcome> {
  const { rng, flow, maxFrag } = setup(ctx, family);
  const ds = datagrams(rng, flow, maxFrag, DATAGRAMS, (i) => (i % 2 === 0 ? 'bad' : 'correct'));
  const frames = arrange(rng, rng.shuffle(ds), 'in-order');
  const bad = ds.filter((d) => d.expect === 'drop').length;
  const rules: CounterRule[] = [
    { names: [family === 4 ? 'UdpInCsumErrors' : 'Udp6InCsumErrors'], min: bad, why: `${bad} reassembled datagrams with a bad checksum` },
  ];
  const r = await injectRound(ctx, frames, receiverOf(flow), ds.length - bad);
  const { tally, arrival } = judgeInjected(ds, frames, r);
  return fragOutcome(
    `${V(family)} fragmented datagrams with a bad UDP checksum`,
    tally,
    [...arrival, ...judgeCounters(rules, r.counters, r.known)],
    'judged (bad checksums dropped and counted, good ones delivered intact)',
    injected(r),
  );
}

/** Largest UDP payload of one datagram. */
export function maxUdp(family: IpFamily): number {
  return family === 4 ? 65535 - 20 - 8 : 65535 - 8;
}

/** Large datagrams from one side's socket to the other's: byte-exact, each once. */
export async function runSocket(ctx: CheckContext, family: IpFamily, direction: 'send' | 'receive'): Promise<CheckOutcome> {
  const rng = createRng(ctx.seed);
  const ports = { sport: rng.int(30000, 39999), dport: rng.int(20000, 29999) };
  const max = maxUdp(family);
  const sizes = rng.shuffle([...NFS_SIZES, max, ...Array.from({ length: RANDOM_SIZES }, () => rng.int(1473, max))]);
  const [from, to] = direction === 'send' ? (['dut', 'peer'] as const) : (['peer', 'dut'] as const);
  const src = family === 4 ? ctx.link[from].ipv4 : ctx.link[from].ipv6;
  const expected: ExpectedDatagram[] = sizes.map((n, index) => ({
    index,
    family,
    payload: rng.bytes(n),
    expect: 'deliver',
    src,
    sport: ports.sport,
  }));
  const r = await socketRound(
    ctx,
    from,
    to,
    family,
    expected.map((d) => d.payload),
    ports,
  );
  const t = judgeDelivery(expected, r.delivered);
  const faults = [...(direction === 'send' ? judgeSentFrames(r.ingress) : []), ...lossFaults(r, t, direction)];
  const explained = faults.length > 0 && faults.every((f) => f.status === 'error');
  // Datagrams lost to the harness's own loss are not the stack's fault: the set-up faults say what happened to them.
  const tally = explained ? { ...t, faults: t.faults.filter((f) => f.kind !== 'missing') } : t;
  const reasm = reassemblyCounters(r.receiverCounters);
  const fragmented = Object.entries(reasm).some(([k, v]) => /ReasmOKs/.test(k) && v > 0);
  const mtu = Math.min(ctx.link.dut.mtu, ctx.link.peer.mtu);
  const words = fragmented ? 'delivered once, byte-exact' : `delivered once, byte-exact (none was fragmented: MTU ${mtu})`;
  return fragOutcome(`${V(family)} ${direction === 'send' ? 'DUT → peer' : 'peer → DUT'}`, tally, faults, words, {
    sizes: sizeSummary(sizes),
    senderFragmentation: reassemblyCounters(r.senderCounters),
    receiverReassembly: reasm,
    fragmented,
    accounting: {
      datagrams: sizes.length,
      sends: r.rounds.reduce((n, x) => n + x.datagrams, 0),
      delivered: r.delivered.length,
      framesSent: r.egress.length,
      framesReceived: r.ingress.length,
      rateMbps: r.rate.mbps,
      rateSource: r.rate.source,
      rounds: r.rounds,
      senderLoss: r.senderLoss,
      receiverLoss: r.receiverLoss,
      captureDropped: r.captureDropped,
    },
  });
}

/**
 * Why datagrams were not delivered, when frames were lost (pure): a sender
 * whose egress lacks fragments (the harness's peer: set-up loss; the DUT: its
 * fault), frames that left one tap and never reached the other (the DUT's
 * loss, unless only the peer's own counters rose).
 */
function lossFaults(r: SocketRoundResult, t: FragTally, direction: 'send' | 'receive'): FragFault[] {
  const missing = t.faults.find((f) => f.kind === 'missing')?.count ?? 0;
  if (missing === 0) return [];
  const out: FragFault[] = [];
  const incomplete = r.rounds.at(-1)?.incomplete ?? 0;
  if (incomplete > 0) {
    if (direction === 'receive')
      out.push({
        kind: 'not-sent',
        status: 'error',
        count: incomplete,
        detail: `${incomplete} datagram(s) the peer's socket sent never fully left the peer (fragments missing on its egress capture): set-up loss`,
      });
    else
      out.push({
        kind: 'missing',
        count: incomplete,
        detail: `${incomplete} datagram(s) left the DUT with fragments missing (its egress capture)`,
      });
  }
  const traces = traceArrivals({
    frames: r.egress.map((f) => f.data),
    peerOut: r.egress,
    dutIn: r.ingress,
    peerDropped: r.captureDropped.sender,
    dutDropped: r.captureDropped.receiver,
  });
  const all = traces.map((_, i) => i);
  if (direction === 'receive') {
    // Lost while the peer's kernel sent faster than the link carries (fragment trains): the harness could not pace them.
    const fast = overRate(r.egress, r.rate.mbps);
    const noDutCounter = Object.keys(r.receiverLoss).length === 0;
    const lostFast = all.filter((i) => traces[i]!.arrival === 'lost' && fast[i] && noDutCounter);
    if (lostFast.length > 0)
      out.push({
        kind: 'lost',
        status: 'error',
        count: lostFast.length,
        detail: `${lostFast.length} frame(s) left the peer faster than the link's ${r.rate.mbps} Mb/s (${r.rate.source}; the peer's kernel sends a datagram's fragments back to back) and never reached the DUT's capture, no drop counter of the DUT rose: set-up loss, the DUT was not judged on them`,
      });
    const excused = new Set(lostFast);
    for (const f of arrivalFaults(
      traces,
      all.filter((i) => !excused.has(i)),
      r.receiverLoss,
      { dut: r.captureDropped.receiver, peer: r.captureDropped.sender },
      r.senderLoss,
    ))
      out.push({
        kind: f.kind,
        ...(f.status === 'error' ? { status: 'error' as const } : {}),
        count: f.count,
        detail: `${f.count} frame(s) ${f.detail}`,
      });
  } else {
    const lost = traces.filter((x) => x.arrival === 'lost' || x.arrival === 'altered').length;
    const peerDrops = Object.values(r.receiverLoss).reduce((a, b) => a + b, 0);
    if (lost > 0)
      out.push({
        kind: 'lost',
        ...(peerDrops >= lost && Object.keys(r.senderLoss).length === 0 ? { status: 'error' as const } : {}),
        count: lost,
        detail: `${lost} frame(s) left the DUT's capture but never reached the peer's intact (DUT ${counterText(r.senderLoss)}; peer ${counterText(r.receiverLoss)})`,
      });
  }
  return out;
}

function counterText(c: Readonly<Record<string, number>>): string {
  const e = Object.entries(c);
  return e.length > 0 ? e.map(([k, v]) => `${k} +${v}`).join(', ') : 'no loss counter rose';
}
