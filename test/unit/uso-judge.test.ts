import { describe, expect, it } from 'vitest';
import type { CapturedFrame } from '../../harness/agent/protocol.js';
import { buildUdpFrame } from '../../harness/codec/index.js';
import { GSO_UDP_L4 } from '../../harness/checks/tso/judge.js';
import { accountDelivered, judgeDatagrams, nameDatagram, planDatagrams } from '../../harness/checks/uso/judge.js';
import { familyChecksumOffload, usoOutcome } from '../../harness/checks/uso/index.js';
import { decodeCapture, TP_STATUS_CSUMNOTREADY } from '../../harness/checks/wire.js';
import { captured } from '../helpers/frames.js';

const flow = { family: 6 as const, src: '2001:db8::1', dst: '2001:db8::2', sport: 45000, dport: 40000 };
const cap = (data: Buffer, extra: Partial<CapturedFrame> = {}): CapturedFrame => captured(data, extra);
const stream = Buffer.from(Array.from({ length: 2600 }, (_, i) => (i * 13 + 5) & 0xff));
// Two sends: 2000 bytes in 800s (800, 800, 400), then 600 bytes in one datagram.
const sends = [
  { bytes: 2000, gsoSize: 800 },
  { bytes: 600, gsoSize: 800 },
];
const plan = planDatagrams(stream, sends);
const dg = (payload: Buffer, checksum?: 'correct' | 'partial' | number, udpLength?: number) =>
  buildUdpFrame({ ...flow, payload, checksum, udpLength });

describe('uso judge', () => {
  it('plans the datagrams a send becomes, the short last one included', () => {
    expect(plan.map((d) => d.payload.length)).toEqual([800, 800, 400, 600]);
    expect(nameDatagram(plan[2]!, 2)).toBe('datagram 3 of 3 of send 1 of 2 (400 bytes, the last one)');
  });

  it('passes plain datagrams and a super-frame cut into them', () => {
    const plain = plan.map((d) => dg(d.payload));
    expect(judgeDatagrams(decodeCapture(plain.map((f) => cap(f))), plan, 1500, 2)).toMatchObject({
      faults: [],
      missingOnWire: [],
      datagrams: 4,
    });
    const sf = dg(stream.subarray(0, 2000), 'partial');
    const frames = decodeCapture([
      cap(sf, { status: TP_STATUS_CSUMNOTREADY, gsoType: GSO_UDP_L4, gsoSize: 800, csumStart: 54, csumOffset: 6 }),
      cap(plain[3]!),
    ]);
    expect(judgeDatagrams(frames, plan, 1500, 2)).toMatchObject({ faults: [], missingOnWire: [], superFrames: 1, superDatagrams: 3 });
    const bad = dg(stream.subarray(0, 2000), 0x1234);
    const t = judgeDatagrams(
      decodeCapture([
        cap(bad, { status: TP_STATUS_CSUMNOTREADY, gsoType: GSO_UDP_L4, gsoSize: 800, csumStart: 54, csumOffset: 6 }),
        cap(plain[3]!),
      ]),
      plan,
      1500,
      2,
    );
    expect(t.faults.map((f) => f.reason)).toEqual([
      expect.stringMatching(/super-frame of 2062 bytes \(3 datagrams of 800\) carries a wrong checksum seed/),
    ]);
  });

  it('fails a wrong checksum, a UDP length that disagrees, a wrong cut and a missing short last datagram', () => {
    const frames = [
      dg(plan[0]!.payload, 0xbeef),
      dg(plan[1]!.payload, 'correct', 900),
      dg(stream.subarray(1600, 1900)),
      dg(plan[3]!.payload),
    ];
    const t = judgeDatagrams(decodeCapture(frames.map((f) => cap(f))), plan, 1500, 2);
    expect(t.faults.map((f) => f.reason)).toEqual([
      expect.stringMatching(/UDP length 900 disagrees with the 808 bytes/),
      expect.stringMatching(/UDP checksum 0xbeef is wrong/),
      expect.stringMatching(/datagram of 300 bytes matches no datagram the sends should make/),
    ]);
    expect(t.missingOnWire.map((d) => d.payload.length)).toEqual([800, 400]);
    const delivered = accountDelivered(plan, [plan[0]!.payload, plan[1]!.payload, plan[3]!.payload]);
    const o = usoOutcome('IPv6 UDP_SEGMENT', sends, t, plan.length, delivered, {});
    expect(o.status).toBe('fail');
    expect(o.message).toMatch(/received 3 of 4 datagrams \(first missing: datagram 3 of 3 of send 1 of 2 \(400 bytes, the last one\)\)/);
  });
});

describe('UDP_SEGMENT needs the family checksum offload', () => {
  const f = (active: boolean) => ({ active });
  it('per family: rtl8139 checksums IPv4 only, so IPv6 UDP_SEGMENT is refused (EIO) because the device does not offer it', () => {
    const rtl8139 = {
      'tx-checksumming': f(true),
      'tx-checksum-ipv4': f(true),
      'tx-checksum-ipv6': f(false),
      'tx-checksum-ip-generic': f(false),
    };
    expect(familyChecksumOffload(rtl8139, 4)).toEqual({ active: true, names: ['tx-checksum-ipv4', 'tx-checksum-ip-generic'] });
    expect(familyChecksumOffload(rtl8139, 6)).toEqual({ active: false, names: ['tx-checksum-ipv6', 'tx-checksum-ip-generic'] });
    // The generic feature covers both families.
    expect(familyChecksumOffload({ 'tx-checksum-ip-generic': f(true), 'tx-checksum-ipv6': f(false) }, 6).active).toBe(true);
    // Only the umbrella known: it decides.
    expect(familyChecksumOffload({ 'tx-checksumming': f(false) }, 4)).toEqual({ active: false, names: ['tx-checksumming'] });
  });
});
