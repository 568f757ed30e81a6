/** TX checksum checks with hand-made frames through PACKET_VNET_HDR: any csum_start/csum_offset, tagged frames. */
import { buildTcpFrame, buildUdpFrame, macToBytes, parseFrame, partialOffsets, wrapL4, type IpFamily } from '../../codec/index.js';
import { createRng, type Rng } from '../../codec/random.js';
import type { CheckContext, CheckOutcome } from '../types.js';
import { decodeCapture, type WireFrame } from '../wire.js';
import { judgeExact, retag, type SentFrame } from './exact.js';
import { attributeLoss } from './loss.js';
import { accountDelivered, type PeerDatagram } from './judge.js';
import { SETTLE_MS } from '../capture-round.js';
import { injectionSysctls, withSysctls } from '../context.js';
import { txOutcome } from './outcome.js';
import { vnetRound } from './rounds.js';

/** Local experimental EtherType (IEEE 802): a frame no stack on the path interprets. */
export const ETHERTYPE_EXPERIMENTAL = 0x88b5;
/** IP protocol for experimentation (RFC 3692): carries our shim + UDP-like header. */
export const IPPROTO_EXPERIMENTAL = 253;

/** Smallest csum_start the kernel's virtio_net_hdr_to_skb accepts for a non-GSO frame. */
export const MIN_CSUM_START = 20;

type Ends = { srcMac: string; dstMac: string; v4: [string, string]; v6: [string, string] };

function ends(ctx: CheckContext): Ends {
  const { dut, peer } = ctx.link;
  return { srcMac: dut.mac, dstMac: peer.mac, v4: [dut.ipv4, peer.ipv4], v6: [dut.ipv6, peer.ipv6] };
}

function ipFrame(
  rng: Rng,
  e: Ends,
  family: IpFamily,
  proto: 'udp' | 'tcp',
  maxPayload: number,
  vlan?: number,
  toSocket?: { sport: number; dport: number },
): SentFrame {
  const [src, dst] = family === 4 ? e.v4 : e.v6;
  const payload = rng.bytes(rng.int(0, maxPayload));
  const common = {
    srcMac: e.srcMac,
    dstMac: e.dstMac,
    family,
    src,
    dst,
    payload,
    checksum: 'partial' as const,
    vlan: vlan === undefined ? undefined : [{ tpid: 0x8100, tci: vlan }],
  };
  const frame =
    proto === 'udp'
      ? buildUdpFrame({ ...common, ...(toSocket ?? { sport: rng.int(40000, 49999), dport: rng.int(40000, 49999) }) })
      : buildTcpFrame({
          ...common,
          sport: rng.int(40000, 49999),
          dport: rng.int(40000, 49999),
          seq: rng.u32(),
          ack: rng.u32(),
          flags: 0x18,
          window: 512,
        });
  const offs = partialOffsets(frame)!;
  return toSocket ? { frame, ...offs, socketPayload: payload } : { frame, ...offs };
}

/** IPv4 carrying a 4-byte shim before a UDP-like header: the checksum starts 4 bytes after the IP header. */
function shimFrame(rng: Rng, e: Ends, maxPayload: number): SentFrame {
  const l4 = Buffer.concat([rng.bytes(4), Buffer.alloc(8), rng.bytes(rng.int(0, maxPayload))]);
  l4.writeUInt16BE(rng.u32() & 0xffff, 4 + 6);
  const frame = wrapL4({ srcMac: e.srcMac, dstMac: e.dstMac, family: 4, src: e.v4[0], dst: e.v4[1] }, IPPROTO_EXPERIMENTAL, l4);
  return { frame, csumStart: 14 + 20 + 4, csumOffset: 6 };
}

/** A non-IP frame with the checksum anywhere: the NETIF_F_HW_CSUM "any data" case. */
function rawFrame(rng: Rng, e: Ends, maxLen: number): SentFrame {
  const len = rng.int(60, maxLen);
  const frame = Buffer.concat([
    macToBytes(e.dstMac),
    macToBytes(e.srcMac),
    Buffer.from([ETHERTYPE_EXPERIMENTAL >> 8, ETHERTYPE_EXPERIMENTAL & 0xff]),
    rng.bytes(len - 14),
  ]);
  // virtio_net_hdr_to_skb refuses a csum_start (from the frame start) below sizeof(struct iphdr) = 20.
  const csumStart = rng.int(MIN_CSUM_START, len - 4);
  const csumOffset = 2 * rng.int(0, Math.min(32, Math.floor((len - csumStart - 2) / 2)));
  return { frame, csumStart, csumOffset };
}

async function judgeRound(ctx: CheckContext, what: string, sent: SentFrame[]): Promise<CheckOutcome> {
  const socketBound = sent.filter((s) => s.socketPayload !== undefined);
  const first = socketBound[0] ? parseFrame(socketBound[0].frame) : undefined;
  const peer =
    first?.ip && first.l4?.dport !== undefined ? { addr: first.ip.dst, dport: first.l4.dport, sport: first.l4.sport ?? 0 } : undefined;
  const receiver = peer ? (await ctx.dut.run('peer', 'udp.recvStart', { family: 4, addr: peer.addr, port: peer.dport })).id : undefined;
  let delivered: PeerDatagram[] = [];
  let round: Awaited<ReturnType<typeof vnetRound>>;
  try {
    // On loopback the frames come back with a local source: the peer's stack takes them only with accept_local.
    round = await withSysctls(ctx, 'peer', peer ? injectionSysctls(ctx, [4]) : {}, () => vnetRound(ctx, sent));
  } finally {
    if (receiver) {
      const got = await ctx.dut.run('peer', 'udp.recvStop', {
        id: receiver,
        expect: socketBound.length,
        settleMs: 0,
        timeoutMs: SETTLE_MS,
      });
      delivered = got.datagrams.map((d) => ({ payload: Buffer.from(d.data, 'base64'), from: d.from, port: d.port }));
    }
  }
  const { raw, refused, captureDropped } = round;
  const frames = decodeCapture(raw).filter(ours(sent));
  const { tally, missing, paddingLeaks } = judgeExact(sent, frames);
  const arrivedToSocket = peer ? frames.filter((f) => f.parsed.l4?.dport === peer.dport && f.parsed.ip?.proto === 17).length : 0;
  const socket = peer
    ? accountDelivered(
        socketBound.map((s) => s.socketPayload!),
        delivered,
        { addr: ctx.link.dut.ipv4, port: peer.sport },
      )
    : undefined;
  const loss = attributeLoss({
    sent: sent.length,
    missingOnWire: Math.max(0, missing - refused.length),
    missingAtSocket: Math.max(0, arrivedToSocket - delivered.length),
    captureDropped,
    peerNstat: {},
    peerDriver: {},
  });
  const accounting = [...loss.device];
  if (socket && socket.unexpected > 0)
    accounting.push(
      `the peer's socket received ${socket.unexpected} datagram(s) matching nothing sent (first: ${socket.firstUnexpected ?? ''})`,
    );
  if (refused.length > 0)
    accounting.unshift(`${refused.length} of ${sent.length} frames were dropped by the DUT's egress (ENOBUFS at send)`);
  const { outcome, offending } = txOutcome({
    what,
    sent: sent.length,
    tally,
    accounting,
    setupLoss: loss.setup,
    frames,
    evidence: {
      capturedFrames: raw.length,
      nonZeroPadding: paddingLeaks,
      ...(peer ? { peerSocket: { bound: socketBound.length, received: delivered.length } } : {}),
    },
  });
  if (offending.length > 0)
    outcome.evidence.pcap = await ctx.writePcap(
      'offending',
      offending.map((f) => f.raw),
    );
  return outcome;
}

/** Which conversation a frame belongs to: EtherType, addresses, protocol, ports. */
function flowKey(data: Buffer): string {
  // One record in, one frame out.
  const p = decodeCapture([
    { data: data.toString('base64'), len: data.length, status: 0, pkttype: 0, vlanTci: 0, vlanTpid: 0, tsNs: 0 },
  ])[0]!.parsed;
  if (!p.ip) return `eth:${p.eth?.src}>${p.eth?.dst}:${p.eth?.etherType}`;
  return `ip:${p.ip.src}>${p.ip.dst}:${p.ip.proto}:${p.l4?.sport ?? ''}>${p.l4?.dport ?? ''}`;
}

/** Frames of our conversations only: the DUT's own ND/MLD chatter and the peer's replies (on lo) are left out. */
function ours(sent: readonly SentFrame[]): (f: WireFrame) => boolean {
  const keys = new Set(sent.map((s) => flowKey(s.frame)));
  return (f) => keys.has(flowKey(retag(f).data));
}

export async function runGenericCase(ctx: CheckContext): Promise<CheckOutcome> {
  const rng = createRng(ctx.seed);
  const e = ends(ctx);
  const maxFrame = Math.min(ctx.link.dut.mtu, 1500) + 14;
  const sent: SentFrame[] = [];
  // The IPv4 UDP frames go to one port, where an ordinary socket of the peer must receive each of them.
  const toSocket = { sport: rng.int(40000, 44999), dport: rng.int(45000, 49999) };
  for (let i = 0; i < 25; i++) {
    sent.push(ipFrame(rng, e, 4, 'udp', maxFrame - 14 - 28, undefined, toSocket));
    sent.push(ipFrame(rng, e, 6, 'tcp', maxFrame - 14 - 60));
    sent.push(shimFrame(rng, e, maxFrame - 14 - 32));
    sent.push(rawFrame(rng, e, maxFrame));
  }
  return judgeRound(
    ctx,
    'arbitrary csum_start/csum_offset (IPv4 UDP, IPv6 TCP, IP with a 4-byte shim, non-IP EtherType)',
    rng.shuffle(sent),
  );
}

export async function runVlanCase(ctx: CheckContext): Promise<CheckOutcome> {
  const rng = createRng(ctx.seed);
  const e = ends(ctx);
  const maxFrame = Math.min(ctx.link.dut.mtu, 1500) + 14;
  const sent: SentFrame[] = [];
  for (let i = 0; i < 50; i++) {
    sent.push(ipFrame(rng, e, 4, 'udp', maxFrame - 14 - 28, rng.int(2, 4094)));
    sent.push(ipFrame(rng, e, 6, 'tcp', maxFrame - 14 - 60, rng.int(2, 4094)));
  }
  return judgeRound(ctx, '802.1Q-tagged IPv4 UDP and IPv6 TCP with the checksum left to the device', sent);
}
