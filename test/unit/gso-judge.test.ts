/** gso/partial's wire judge over crafted VXLAN frames carrying TCP segments: every outer level, outer IDs, uncut super-frames. */
import { describe, expect, it } from 'vitest';
import type { CapturedFrame } from '../../harness/agent/protocol.js';
import {
  buildTcpFrame,
  buildVxlanFrame,
  parseEncap,
  partialOffsets,
  TCP_ACK,
  TCP_FIN,
  TCP_PSH,
  TCP_SYN,
} from '../../harness/codec/index.js';
import { ID_WINDOW, tunnelHandedDown, unwrapTunnel, type TunnelPath } from '../../harness/checks/gso/judge.js';
import { GSO_VARIANTS, partialUnsupported } from '../../harness/checks/gso/index.js';
import { judgeSegments, type TcpFlowExpect } from '../../harness/checks/tso/judge.js';
import { decodeCapture, TP_STATUS_CSUMNOTREADY, type WireFrame } from '../../harness/checks/wire.js';
import { captured } from '../helpers/frames.js';

const OUTER = { family: 4 as const, src: '192.0.2.1', dst: '192.0.2.2', sport: 50000 };
const INNER = { family: 4 as const, src: '203.0.113.1', dst: '203.0.113.2', sport: 45000, dport: 40000 };
const VNI = 4242;
const path: TunnelPath = {
  outer: { family: 4, src: OUTER.src, dst: OUTER.dst },
  expect: { kind: 'vxlan', outerCsum: true, greCsum: false, vni: VNI },
};
const ISN = 7000;
const stream = Buffer.from(Array.from({ length: 2500 }, (_, i) => (i * 13 + 5) & 0xff));

interface Seg {
  at: number;
  len: number;
  flags?: number;
  /** Outer IPv4 ID and DF. */
  outerId: number;
  outerDf?: boolean;
  outerTtl?: number;
  outerTos?: number;
  /** The outer UDP checksum: right unless forced. */
  outerCsum?: number;
  udpLength?: number;
  innerCsum?: 'correct' | 'partial';
}

function innerSegment(s: Seg, id: number): Buffer {
  const syn = (s.flags ?? 0) & TCP_SYN;
  return buildTcpFrame({
    ...INNER,
    seq: syn ? ISN : ISN + 1 + s.at,
    ack: 1,
    flags: s.flags ?? TCP_ACK,
    window: 500,
    ipv4: { id, df: true },
    payload: stream.subarray(s.at, s.at + s.len),
    checksum: s.innerCsum ?? 'correct',
  });
}

/** Tunnel frames of a connection: inner IPv4 IDs count up from 100, each outer as the spec says. */
function tunnel(segs: Seg[]): Buffer[] {
  return segs.map((s, i) => {
    const inner = innerSegment(s, 100 + i);
    const frame = buildVxlanFrame({
      ...OUTER,
      vni: VNI,
      inner: innerSegment({ ...s, innerCsum: 'correct' }, 100 + i),
      ipv4: { id: s.outerId, df: s.outerDf ?? false, ttl: s.outerTtl ?? 64, tos: s.outerTos ?? 0 },
      udpLength: s.udpLength,
      checksum: s.outerCsum ?? 'correct',
    });
    if (s.innerCsum !== 'partial') return frame;
    // Local checksum offload: the outer sum is over the completed inner, the inner field keeps its seed.
    const enc = parseEncap(frame).encap!;
    const o = partialOffsets(inner)!;
    frame.writeUInt16BE(inner.readUInt16BE(o.csumStart + o.csumOffset), enc.innerOffset + o.csumStart + o.csumOffset);
    return frame;
  });
}

function wire(frames: Buffer[], extra: (i: number, f: Buffer) => Partial<CapturedFrame> = () => ({})): WireFrame[] {
  return decodeCapture(frames.map((f, i) => captured(f, extra(i, f))));
}

/** A write of 2500 bytes in 1200 + 1200 + 100 after the SYN, then a FIN. */
const SOUND: Seg[] = [
  { at: 0, len: 0, flags: TCP_SYN, outerId: 10 },
  { at: 0, len: 1200, outerId: 11 },
  { at: 1200, len: 1200, outerId: 12 },
  { at: 2400, len: 100, flags: TCP_ACK | TCP_PSH, outerId: 13 },
  { at: 2500, len: 0, flags: TCP_ACK | TCP_FIN, outerId: 14 },
];

const expectFor = (more: Partial<TcpFlowExpect> = {}): TcpFlowExpect => ({
  family: 4,
  stream,
  writes: [2500],
  mss: 1400,
  mtu: 1450,
  timestamps: false,
  mangleId: false,
  ecn: false,
  reset: false,
  ...more,
});

const faults = (u: ReturnType<typeof unwrapTunnel>) => u.frames.flatMap((f) => (f.fault ? [`#${f.index}: ${f.fault}`] : []));
const inner = (u: ReturnType<typeof unwrapTunnel>) => u.frames.flatMap((f) => (f.inner ? [f.inner] : []));

describe('unwrapTunnel', () => {
  it('sound tunnel frames: no fault, every inner segment handed on whole, and tso judges the stream right', () => {
    const u = unwrapTunnel(wire(tunnel(SOUND)), path);
    expect(faults(u)).toEqual([]);
    expect(u.tally).toMatchObject({ outerFrames: 5, complete: 5, outerIdRepeats: 0, superFrames: 0 });
    expect(inner(u).map((f) => f.index)).toEqual([0, 1, 2, 3, 4]);
    const t = judgeSegments(inner(u), expectFor());
    expect(t.faults).toEqual([]);
    expect(t.dataSegments).toBe(3);
  });

  it('a wrong outer UDP checksum on the segments of one length only is named on exactly those frames', () => {
    const segs = SOUND.map((s) => (s.len === 1200 ? { ...s, outerCsum: 0x1234 } : s));
    const u = unwrapTunnel(wire(tunnel(segs)), path);
    expect(faults(u)).toEqual([
      expect.stringMatching(/^#1: outer UDP checksum 0x1234 is wrong, expected 0x[0-9a-f]{4}$/),
      expect.stringMatching(/^#2: outer UDP checksum 0x1234 is wrong/),
    ]);
    // The inner segments still place in the stream: the outer fault is the one found.
    expect(judgeSegments(inner(u), expectFor()).faults).toEqual([]);
  });

  it('the outer checksum left as the pseudo-header seed on the wire is named as such', () => {
    const frames = tunnel(SOUND);
    frames[3] = buildVxlanFrame({
      ...OUTER,
      vni: VNI,
      inner: innerSegment(SOUND[3]!, 103),
      ipv4: { id: 13, df: false },
      checksum: 'partial',
    });
    expect(faults(unwrapTunnel(wire(frames), path))).toEqual([expect.stringMatching(/^#3: .*pseudo-header seed, nobody completed it/)]);
  });

  it('an outer IPv4 ID copied onto the next segment without DF is a fault; under DF it is counted, not faulted', () => {
    const copied = SOUND.map((s, i) => (i === 2 ? { ...s, outerId: 11 } : s));
    expect(faults(unwrapTunnel(wire(tunnel(copied)), path))).toEqual([
      expect.stringMatching(/^#2: outer IPv4 ID 11 repeats frame #1's and DF is clear/),
    ]);
    const df = copied.map((s) => ({ ...s, outerDf: true }));
    const u = unwrapTunnel(wire(tunnel(df)), path);
    expect(faults(u)).toEqual([]);
    expect(u.tally.outerIdFixedDf).toBe(1);
    // IDs that jump ahead (the kernel's ID generator skips with time) are no fault.
    const jumps = SOUND.map((s, i) => ({ ...s, outerId: 10 + i * 700 }));
    expect(faults(unwrapTunnel(wire(tunnel(jumps)), path))).toEqual([]);
  });

  it('a repeat only counts within the recent frames: the 16-bit ID may come round again much later', () => {
    const many: Seg[] = Array.from({ length: ID_WINDOW + 2 }, (_, i) => ({ at: 2500, len: 0, flags: TCP_ACK, outerId: 1000 + i }));
    many[ID_WINDOW + 1]!.outerId = 1000;
    expect(faults(unwrapTunnel(wire(tunnel(many)), path))).toEqual([]);
    many[ID_WINDOW + 1]!.outerId = 1002;
    expect(faults(unwrapTunnel(wire(tunnel(many)), path))).toEqual([expect.stringMatching(/repeats frame #2's/)]);
  });

  it('an outer TTL or DSCP that changes within one inner flow is a fault; the ECN bits may follow each inner packet', () => {
    const ttl = SOUND.map((s, i) => (i === 2 ? { ...s, outerTtl: 1 } : s));
    expect(faults(unwrapTunnel(wire(tunnel(ttl)), path))).toEqual([
      "#2: outer IPv4 DF/TTL/DSCP 0/1/0 differ from frame #0's 0/64/0 (the same inner flow)",
    ]);
    const dscp = SOUND.map((s, i) => (i === 2 ? { ...s, outerTos: 0xb8 } : s));
    expect(faults(unwrapTunnel(wire(tunnel(dscp)), path))).toEqual([
      expect.stringMatching(/^#2: outer IPv4 DF\/TTL\/DSCP 0\/64\/46 differ/),
    ]);
    const ecn = SOUND.map((s, i) => (i > 0 && i < 4 ? { ...s, outerTos: 0x02 } : s));
    expect(faults(unwrapTunnel(wire(tunnel(ecn)), path))).toEqual([]);
  });

  it('an outer UDP length that is one segment short of the frame is named', () => {
    const segs = SOUND.map((s, i) => (i === 1 ? { ...s, udpLength: 1000 } : s));
    expect(faults(unwrapTunnel(wire(tunnel(segs)), path))).toEqual([
      expect.stringMatching(/^#1: outer UDP length field 1000 differs from the \d+-byte IP payload/),
    ]);
  });

  it('an inner checksum left partial with the outer summed over the completed inner passes, counted as such', () => {
    const segs = SOUND.map((s) => ({ ...s, innerCsum: 'partial' as const }));
    const frames = tunnel(segs);
    const u = unwrapTunnel(
      wire(frames, (_, f) => {
        const enc = parseEncap(f).encap!;
        const start = enc.innerOffset + enc.innerParsed.l4!.offset;
        return { status: TP_STATUS_CSUMNOTREADY, csumStart: start, csumOffset: 16 };
      }),
      path,
    );
    expect(faults(u)).toEqual([]);
    expect(u.tally.innerPartial).toBe(5);
    expect(judgeSegments(inner(u), expectFor()).faults).toEqual([]);
  });

  it('a dropped last segment of a write: the wrapping is sound, tso names the bytes that never arrived', () => {
    const u = unwrapTunnel(wire(tunnel(SOUND.filter((_, i) => i !== 3))), path);
    expect(faults(u)).toEqual([]);
    expect(judgeSegments(inner(u), expectFor()).faults.map((f) => f.reason)).toContain(
      'stream bytes 2400–2499 (bytes 2400–2499 of write 1 of 1, its end) never appeared on the wire',
    );
  });

  it('a tunnel super-frame that reached the peer uncut is a fault: its segments cannot be judged', () => {
    const big = tunnel([{ at: 0, len: 2400, outerId: 11 }])[0]!;
    const u = unwrapTunnel(
      wire([big], () => ({ gsoSize: 1200, gsoType: 1 })),
      path,
    );
    expect(faults(u)).toEqual([expect.stringMatching(/^#0: a tunnel super-frame of \d+ bytes \(gso_size 1200\) reached the peer uncut/)]);
    expect(inner(u)).toEqual([]);
  });

  it("frames of other flows (another outer source) and the tunnel's own ARP are left out", () => {
    const other = buildVxlanFrame({ ...OUTER, src: '192.0.2.9', vni: VNI, inner: innerSegment(SOUND[1]!, 1), checksum: 0x1234 });
    const arpInner = Buffer.alloc(14 + 28);
    arpInner.writeUInt16BE(0x0806, 12);
    const arp = buildVxlanFrame({ ...OUTER, vni: VNI, inner: arpInner, ipv4: { id: 99 } });
    const u = unwrapTunnel(wire([other, arp, ...tunnel(SOUND)]), path);
    expect(u.tally.outerFrames).toBe(5);
    expect(faults(u)).toEqual([]);
  });
});

describe('unwrapTunnel over an outer IPv6 header', () => {
  const OUTER6 = { family: 6 as const, src: '2001:db8::1', dst: '2001:db8::2', sport: 50000 };
  const path6: TunnelPath = { ...path, outer: { family: 6, src: OUTER6.src, dst: OUTER6.dst } };
  const frames6 = (hop: (i: number) => number, payloadLength?: (i: number) => number | undefined) =>
    SOUND.map((s, i) =>
      buildVxlanFrame({
        ...OUTER6,
        vni: VNI,
        inner: innerSegment(s, 100 + i),
        ipv6: { hopLimit: hop(i), payloadLength: payloadLength?.(i) },
      }),
    );

  it('sound frames pass; a hop limit that changes within the flow and a payload length off the frame are named', () => {
    expect(faults(unwrapTunnel(wire(frames6(() => 64)), path6))).toEqual([]);
    expect(faults(unwrapTunnel(wire(frames6((i) => (i === 1 ? 1 : 64))), path6))).toEqual([
      "#1: outer IPv6 hop limit/DSCP 1/0 differ from frame #0's 64/0 (the same inner flow)",
    ]);
    const short = faults(
      unwrapTunnel(
        wire(
          frames6(
            () => 64,
            (i) => (i === 2 ? 1000 : undefined),
          ),
        ),
        path6,
      ),
    );
    expect(short).toEqual(['#2: outer IP length: udp: length field 1270 exceeds the 1000 bytes the IP header gives']);
  });
});

describe('tunnelHandedDown', () => {
  it('counts GSO partial super-frames from the frame length (their headers give one segment), the capture cut to 128 bytes', () => {
    const seg = tunnel([{ at: 0, len: 1200, outerId: 11 }])[0]!;
    const whole = (extra: number) => ({ len: seg.length + extra });
    const frames = [seg, seg, seg].map((f) => f.subarray(0, 128));
    const handed = decodeCapture([
      captured(frames[0]!, { ...whole(2400), gsoSize: 1200, gsoType: 1 }),
      captured(frames[1]!, { ...whole(0), gsoSize: 0 }),
      captured(frames[2]!, { ...whole(0), gsoSize: 1200, gsoType: 1 }),
    ]);
    expect(tunnelHandedDown(handed, { ...INNER, proto: 6 })).toEqual({ frames: 3, superFrames: 1, superSegments: 3 });
    expect(tunnelHandedDown(handed, { ...INNER, proto: 6, dport: 1 })).toEqual({ frames: 0, superFrames: 0, superSegments: 0 });
  });
});

describe('the hardware variant without GSO partial', () => {
  it('is unsupported with the ethtool proof: fixed off, absent, or refused', () => {
    expect(partialUnsupported({ 'tx-gso-partial': { active: false, fixed: true, requested: false } })).toMatch(
      /tx-gso-partial is off \[fixed\]/,
    );
    expect(partialUnsupported({})).toMatch(/not a feature of this device/);
    expect(partialUnsupported({ 'tx-gso-partial': { active: false, fixed: false, requested: true } })).toMatch(/stays off/);
    expect(partialUnsupported({ 'tx-gso-partial': { active: true, fixed: false, requested: true } })).toBeUndefined();
  });

  it('the software variant turns every tunnel segmentation offload off, partial included', () => {
    const sw = GSO_VARIANTS.find((v) => v.name === 'software')!;
    expect(sw.features).toMatchObject({ 'tx-gso-partial': false, 'tx-udp_tnl-csum-segmentation': false, 'tx-udp_tnl-segmentation': false });
    expect(GSO_VARIANTS.find((v) => v.name === 'partial')!.features).toMatchObject({ 'tx-gso-partial': true });
  });
});
