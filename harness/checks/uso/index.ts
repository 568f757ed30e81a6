/**
 * The `uso/*` family: UDP segmentation (UDP_SEGMENT, `tx-udp-segmentation`)
 * judged datagram by datagram on the wire and through the peer's socket.
 */
import type { Evidence } from '../../../matrix/record.js';
import { claimFeatures } from '../../../matrix/claims.js';
import { streamBytes } from '../../agent/actions/tcp-stream.js';
import { describeError } from '../../codec/errors.js';
import { syscallErrno } from '../../sys/errno.js';
import type { IpFamily } from '../../codec/index.js';
import { createRng, type Rng } from '../../codec/random.js';
import { PACKET_OUTGOING } from '../../sys/consts.js';
import { SETTLE_MS } from '../capture-round.js';
import { withPeerMergingOff } from '../tso/case.js';
import { addresses, handedDown } from '../tso/round.js';
import type { Check, CheckContext, CheckOutcome, Family, Variant } from '../types.js';
import { decodeCapture, flowFilter } from '../wire.js';
import { accountDelivered, judgeDatagrams, nameDatagram, planDatagrams, type UsoSend, type UsoTally } from './judge.js';

/**
 * Whether the device checksums this family's UDP on transmit: the IPv4 or IPv6 feature, or the generic one
 * (the kernel marks a UDP skb CHECKSUM_PARTIAL only then, and UDP_SEGMENT needs that).
 */
export function familyChecksumOffload(
  features: Readonly<Record<string, { active?: boolean } | undefined>>,
  family: 4 | 6,
): { active: boolean; names: string[] } {
  // The same features tx-csum's UDP check of the family concerns.
  const names = claimFeatures(`tx-csum/ipv${family}-udp`);
  const on = (n: string) => features[n]?.active === true;
  // Without the sub-features (an old ethtool), the umbrella is all there is to go by.
  const known = names.some((n) => features[n] !== undefined);
  return { active: known ? names.some(on) : on('tx-checksumming'), names: known ? names : ['tx-checksumming'] };
}

export const USO_VARIANTS: readonly Variant[] = [
  // The device cuts the datagrams.
  { name: 'uso', features: { 'tx-checksumming': true, 'scatter-gather': true, 'tx-udp-segmentation': true } },
  // The kernel cuts them just before the driver.
  {
    name: 'gso',
    features: { 'tx-checksumming': true, 'scatter-gather': true, 'tx-udp-segmentation': false },
    optional: ['tx-checksumming', 'scatter-gather'],
  },
];

/** Most segments the kernel takes in one UDP_SEGMENT send (UDP_MAX_SEGMENTS of older kernels). */
const MAX_SEGMENTS = 64;
/** Largest UDP payload of one send: an IP packet stays within 65535 bytes. */
const MAX_SEND = 65_000;
/** Pause between sends: a slow device's ring has time to drain (loss from pace is the harness's). */
const SEND_GAP_MS = 5;

/** Sends of one case: small, mid and MTU-sized segment sizes, an odd one, each with a short last datagram (and one without). */
export function plannedSends(rng: Rng, family: IpFamily, mtu: number): UsoSend[] {
  const max = Math.min(mtu, 9000) - (family === 4 ? 20 : 40) - 8;
  const sizes = [536, 1200, max, 1001, max - 1, 64].map((g) => Math.min(g, max));
  return sizes.map((gsoSize, i) => {
    const whole = Math.min(MAX_SEGMENTS - 1, Math.floor(MAX_SEND / gsoSize) - 1, rng.int(2, 40));
    // The last send divides evenly: no short tail; every other ends in a short datagram.
    const tail = i === sizes.length - 1 ? 0 : rng.int(1, gsoSize - 1);
    return { gsoSize, bytes: whole * gsoSize + tail };
  });
}

export function usoOutcome(
  what: string,
  sends: readonly UsoSend[],
  t: UsoTally,
  planCount: number,
  delivered: ReturnType<typeof accountDelivered>,
  evidence: Evidence,
): CheckOutcome {
  const problems: string[] = [];
  if (t.faults.length > 0)
    problems.push(
      `${t.faults.length} fault(s) on the wire: ${t.faults
        .slice(0, 3)
        .map((f) => `frame #${f.index}: ${f.reason}`)
        .join('; ')}${t.faults.length > 3 ? '; …' : ''}`,
    );
  if (t.missingOnWire.length > 0)
    problems.push(
      `${t.missingOnWire.length} of ${planCount} datagrams never appeared on the wire (first: ${nameDatagram(t.missingOnWire[0]!, sends.length)})`,
    );
  if (t.duplicates > 0) problems.push(`${t.duplicates} datagram(s) appeared on the wire twice`);
  if (delivered.missing.length > 0)
    problems.push(
      `the peer's socket received ${planCount - delivered.missing.length} of ${planCount} datagrams (first missing: ${nameDatagram(delivered.missing[0]!, sends.length)})`,
    );
  if (delivered.unexpected > 0) problems.push(`the peer's socket received ${delivered.unexpected} datagram(s) that were never sent`);
  if (delivered.duplicates > 0) problems.push(`the peer's socket received ${delivered.duplicates} datagram(s) twice`);
  const ev: Evidence = {
    ...evidence,
    sends: sends.map((s) => `${s.bytes}/${s.gsoSize}`),
    datagramsPlanned: planCount,
    framesOnWire: t.frames,
    superFramesOnWire: t.superFrames,
    superFrameDatagrams: t.superDatagrams,
    datagramsOnWire: t.datagrams,
    completeChecksums: t.completeChecksums,
    partialChecksums: t.partialChecksums,
    datagramsDelivered: planCount - delivered.missing.length,
    faults: t.faults.slice(0, 12),
  };
  if (problems.length > 0) return { status: 'fail', message: `${what}: ${problems.join('; ')}`, evidence: ev };
  const cut = t.superFrames > 0 ? `${t.superFrames} super-frames cut into ${t.superDatagrams} datagrams, ` : '';
  const short = sends.filter((s) => s.bytes % s.gsoSize !== 0).length;
  return {
    status: 'pass',
    message: `${what}: ${sends.length} sends became ${planCount} datagrams (${short} short last ones); ${cut}${t.frames - t.superFrames} frames; every length and checksum right; the peer's socket received every datagram byte-exact`,
    evidence: ev,
  };
}

export async function runUsoCase(ctx: CheckContext, family: IpFamily): Promise<CheckOutcome> {
  const rng = createRng(ctx.seed);
  const { src, dst } = addresses(ctx, family);
  const sport = rng.int(45000, 49999);
  const dport = rng.int(40000, 44999);
  const seed = rng.u32();
  const mtu = ctx.link.dut.mtu;
  const sends = plannedSends(rng, family, mtu);
  const total = sends.reduce((a, s) => a + s.bytes, 0);
  const plan = planDatagrams(streamBytes(seed, total), sends);
  const what = `IPv${family} UDP_SEGMENT`;
  return withPeerMergingOff(ctx, async () => {
    const { id: rx } = await ctx.dut.run('peer', 'udp.recvStart', { family, addr: dst, port: dport });
    let rxOpen = true;
    try {
      const peerCap = (await ctx.dut.run('peer', 'capture.start', { ifname: ctx.link.peer.ifname, vnetHdr: true })).id;
      const dutCap = (await ctx.dut.run('dut', 'capture.start', { ifname: ctx.link.dut.ifname, vnetHdr: true, snaplen: 128 })).id;
      let sendError: unknown;
      try {
        for (const s of sends) {
          // One send per call: the same bytes the plan cut, from the same seeded stream.
          await ctx.dut.run('dut', 'udp.gsoSend', { family, src, dst, sport, dport, seed, sends: [s], offset: offsetOf(sends, s) });
          await new Promise((r) => setTimeout(r, SEND_GAP_MS));
        }
      } catch (e) {
        sendError = e;
      }
      // A send the kernel refused sent nothing more: collect what came, without waiting for the plan's count.
      const waitFor = (n: number) => (sendError === undefined ? { expect: n, timeoutMs: 5000 } : {});
      const peer = await ctx.dut.run(
        'peer',
        'capture.stop',
        { id: peerCap, ...waitFor(1), settleMs: SETTLE_MS, ignoreOutgoing: true },
        { timeoutMs: 60_000 },
      );
      const dut = await ctx.dut.run('dut', 'capture.stop', { id: dutCap, settleMs: 0 }, { timeoutMs: 60_000 });
      const got = await ctx.dut.run('peer', 'udp.recvStop', { id: rx, ...waitFor(plan.length), settleMs: 100 });
      rxOpen = false;
      // UDP_SEGMENT needs TX checksum offload for the family (udp_send_skb: CHECKSUM_PARTIAL or EIO), offloaded or not.
      const csum = familyChecksumOffload(ctx.features, family);
      if (syscallErrno(sendError) === 'EIO' && !csum.active)
        return {
          status: 'unsupported',
          message: `${what}: the kernel refuses UDP_SEGMENT (EIO) on a device without IPv${family} TX checksum offload, and ${csum.names.join(' and ')} stay off here`,
          evidence: { sendError: describeError(sendError) },
        };
      if (sendError !== undefined) throw sendError;
      const flow = flowFilter({ src, dst, proto: 17, sport, dport });
      const frames = decodeCapture(peer.frames).filter(flow);
      const tally = judgeDatagrams(frames, plan, mtu, sends.length);
      const delivered = accountDelivered(
        plan,
        got.datagrams.map((d) => Buffer.from(d.data, 'base64')),
      );
      const outcome = usoOutcome(what, sends, tally, plan.length, delivered, {
        handedDown: handedDown(decodeCapture(dut.frames.filter((f) => f.pkttype === PACKET_OUTGOING)).filter(flow)),
        captureDropped: peer.dropped || undefined,
      });
      if (outcome.status === 'pass' && peer.dropped > 0) {
        return {
          status: 'error',
          message: `${what}: the peer's capture dropped ${peer.dropped} frame(s): not every datagram could be judged`,
          evidence: outcome.evidence,
        };
      }
      if (outcome.status === 'fail') {
        const bad = new Set(tally.faults.map((f) => f.index));
        const offending = frames.filter((f) => bad.has(f.index)).map((f) => f.raw);
        outcome.evidence.pcap = await ctx.writePcap(`uso${family}-offending`, offending.length > 0 ? offending : peer.frames);
      }
      return outcome;
    } finally {
      if (rxOpen) await ctx.dut.run('peer', 'udp.recvStop', { id: rx, settleMs: 0, timeoutMs: 0 }).catch(() => undefined);
    }
  });
}

function offsetOf(sends: readonly UsoSend[], s: UsoSend): number {
  let off = 0;
  for (const x of sends) {
    if (x === s) return off;
    off += x.bytes;
  }
  return off;
}

export const usoFamily: Family = {
  name: 'uso',
  title: 'UDP segmentation offload',
  definition:
    'UDP_SEGMENT sends cut into datagrams by the device (USO) or by the kernel (GSO), every datagram judged on the wire; ethtool feature tx-udp-segmentation.',
};

function usoCheck(family: IpFamily): Check {
  return {
    id: `uso/ipv${family}`,
    family: 'uso',
    title: `IPv${family} UDP segmentation offload (UDP_SEGMENT), every datagram judged`,
    definition: `Sends IPv${family} UDP with UDP_SEGMENT at several segment sizes, each with a short last datagram, cut by the device or by the kernel.`,
    proves: "Every datagram on the wire had the right length, IP ID and checksum, and the peer's socket received each one exactly.",
    variants: () => [...USO_VARIANTS],
    run: (ctx) => runUsoCase(ctx, family),
  };
}

export const usoChecks: readonly Check[] = [usoCheck(4), usoCheck(6)];
