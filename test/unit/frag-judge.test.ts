import { describe, expect, it } from 'vitest';
import {
  countersMet,
  firstDifference,
  incompleteDatagrams,
  judgeCounters,
  judgeDelivery,
  judgeSentFrames,
  reassemblyCounters,
  type CounterRule,
  type ExpectedDatagram,
} from '../../harness/checks/frag/judge.js';
import { asArrivedPayloads, reassembleUdp } from '../../harness/checks/frag/as-arrived.js';
import { fates, fragOutcome, sizeSummary } from '../../harness/checks/frag/outcome.js';
import type { DeliveredDatagram } from '../../harness/checks/delivered.js';
import { decodeCapture } from '../../harness/checks/wire.js';
import { buildIpv4Fragments, buildUdpFrame } from '../../harness/codec/index.js';

const src = '198.18.0.2';
const dg = (index: number, bytes: string, expect: ExpectedDatagram['expect'] = 'deliver', readings?: string[]): ExpectedDatagram => ({
  index,
  family: 4,
  payload: Buffer.from(bytes),
  expect,
  readings: readings?.map((r) => Buffer.from(r)),
  src,
  sport: 31000,
});
const got = (bytes: string, from = src, port = 31000): DeliveredDatagram => ({ family: 4, payload: Buffer.from(bytes), from, port });

describe('judgeDelivery', () => {
  it('passes every datagram delivered once, in any order', () => {
    const t = judgeDelivery([dg(0, 'alpha'), dg(1, 'beta'), dg(2, 'gamma', 'drop')], [got('beta'), got('alpha')]);
    expect(t).toEqual({ datagrams: 3, delivered: 2, fate: ['delivered', 'delivered', 'dropped'], faults: [] });
  });

  it('names datagrams missing, delivered though they must be dropped, and delivered twice', () => {
    const t = judgeDelivery([dg(0, 'alpha'), dg(1, 'beta', 'drop'), dg(2, 'gamma')], [got('beta'), got('gamma'), got('gamma')]);
    expect(t.faults).toEqual([
      { kind: 'missing', count: 1, detail: '1 never delivered (datagram 0)' },
      { kind: 'delivered-bad', count: 1, detail: '1 delivered though they must be dropped (datagram 1)' },
      { kind: 'duplicate', count: 1, detail: '1 delivered more than once (datagram 2)' },
    ]);
  });

  it('fails bytes that match nothing sent, naming the nearest datagram and where it differs', () => {
    const t = judgeDelivery([dg(0, 'abcdefgh'), dg(1, 'xyz')], [got('abcdXfgh'), got('xyz')]);
    expect(t.faults).toEqual([
      { kind: 'missing', count: 1, detail: '1 never delivered (datagram 0)' },
      {
        kind: 'corrupt',
        count: 1,
        detail:
          '1 delivered datagram(s) match no consistent reading of anything sent; first: 8 bytes (nearest: datagram 0 of 8 bytes, first difference at byte 4)',
      },
    ]);
  });

  it('accepts an overlap delivered as one consistent reading, or dropped, and says which', () => {
    const either = [
      dg(0, 'orig', 'either', ['orig', 'ovlp']),
      dg(1, 'two!', 'either', ['two!', 'tw0!']),
      dg(2, 'none', 'either', ['none']),
    ];
    const t = judgeDelivery(either, [got('orig'), got('tw0!')]);
    expect(t.faults).toEqual([]);
    expect(t.fate).toEqual(['first copy won', 'last copy won', 'dropped']);
    expect(fates(t)).toBe('1 first copy won, 1 last copy won, 1 dropped');
    // Bytes from neither copy: no consistent reading.
    expect(judgeDelivery(either, [got('orlp')]).faults.map((f) => f.kind)).toEqual(['corrupt']);
  });

  it('fails a datagram delivered with another source, but not an address written differently', () => {
    expect(judgeDelivery([dg(0, 'a')], [got('a', src, 9)]).faults.map((f) => f.kind)).toEqual(['corrupt']);
    const v6 = { ...dg(0, 'a'), family: 6 as const, src: '2001:db8::2' };
    expect(judgeDelivery([v6], [{ family: 6, payload: Buffer.from('a'), from: '2001:0db8::0:2', port: 31000 }]).faults).toEqual([]);
  });

  it('does not match a datagram of the other family', () => {
    const t = judgeDelivery([dg(0, 'same')], [{ family: 6, payload: Buffer.from('same'), from: '2001:db8::2', port: 31000 }]);
    expect(t.faults.map((f) => f.kind)).toEqual(['missing', 'corrupt']);
  });
});

describe('counters', () => {
  const rules: CounterRule[] = [
    { names: ['IpReasmTimeout', 'IpReasmFails'], min: 3, why: '3 incomplete datagrams timing out' },
    { names: ['IpReasmFails'], min: 3, why: '3 incomplete datagrams' },
  ];

  it('judges the first counter the kernel has, falling back when it lacks the first', () => {
    const known = new Set(['IpReasmTimeout', 'IpReasmFails']);
    expect(judgeCounters(rules, { IpReasmTimeout: 3, IpReasmFails: 3 }, known)).toEqual([]);
    expect(judgeCounters(rules, { IpReasmTimeout: 1, IpReasmFails: 3 }, known)).toEqual([
      { kind: 'uncounted', count: 2, detail: 'IpReasmTimeout rose by 1, 3 incomplete datagrams timing out make it rise by at least 3' },
    ]);
    // An older kernel without IpReasmTimeout: ReasmFails stands in.
    expect(judgeCounters(rules, { IpReasmFails: 3 }, new Set(['IpReasmFails']))).toEqual([]);
    expect(countersMet(rules, { IpReasmFails: 2 }, new Set(['IpReasmFails']))).toBe(false);
  });

  it('keeps the reassembly, fragmentation and checksum counters for evidence', () => {
    expect(reassemblyCounters({ IpReasmOKs: 2, IpFragCreates: 9, UdpInCsumErrors: 1, TcpInSegs: 5, Ip6ReasmFails: 1 })).toEqual({
      IpReasmOKs: 2,
      IpFragCreates: 9,
      UdpInCsumErrors: 1,
      Ip6ReasmFails: 1,
    });
  });
});

describe('fragOutcome', () => {
  it('passes with the fates and evidence, and fails with every fault named', () => {
    const ok = fragOutcome('IPv4 fragments shuffled', judgeDelivery([dg(0, 'a')], [got('a')]), [], 'delivered once, intact', {
      fragmentsSent: 3,
    });
    expect(ok).toEqual({
      status: 'pass',
      message: 'IPv4 fragments shuffled: 1 datagrams delivered once, intact (1 delivered)',
      evidence: { fragmentsSent: 3, datagrams: 1, delivered: 1, fates: '1 delivered' },
    });
    const bad = fragOutcome(
      'IPv4 fragments shuffled',
      judgeDelivery([dg(0, 'a')], []),
      [{ kind: 'uncounted', count: 1, detail: 'IpReasmOKs rose by 0' }],
      'x',
      {},
    );
    expect(bad.status).toBe('fail');
    expect(bad.message).toBe('IPv4 fragments shuffled: 1 never delivered (datagram 0); IpReasmOKs rose by 0');
    expect(bad.evidence).toMatchObject({ faults: [{ kind: 'missing' }, { kind: 'uncounted' }] });
  });

  it("is an error when only the harness's faults stand, and a fail when the DUT's stand beside them", () => {
    const setup = { kind: 'not-sent' as const, status: 'error' as const, count: 2, detail: '2 fragment(s) never left the peer' };
    const t = judgeDelivery([dg(0, 'a'), dg(1, 'b')], [got('b')], new Set([0]));
    const e = fragOutcome('IPv4 fragments in-order', t, [setup], 'x', {});
    expect(e.status).toBe('error');
    expect(e.message).toBe('IPv4 fragments in-order: 2 fragment(s) never left the peer');
    expect(e.evidence.fates).toBe('1 not judged (fragments did not arrive), 1 delivered');
    const f = fragOutcome('IPv4 fragments in-order', judgeDelivery([dg(0, 'a'), dg(1, 'b')], [], new Set([0])), [setup], 'x', {});
    expect(f.status).toBe('fail');
    expect(f.message).toBe('IPv4 fragments in-order: 1 never delivered (datagram 1); 2 fragment(s) never left the peer');
  });

  it('summarises sizes and finds the first difference', () => {
    expect(sizeSummary([1536, 65507, 8192])).toEqual({ count: 3, min: 1536, max: 65507 });
    expect(firstDifference(Buffer.from('abc'), Buffer.from('abd'))).toBe(2);
    expect(firstDifference(Buffer.from('ab'), Buffer.from('abc'))).toBe(2);
  });
});

describe('frames a sender put on the wire', () => {
  const flow = {
    family: 4 as const,
    srcMac: '02:00:00:00:00:01',
    dstMac: '02:00:00:00:00:02',
    src: '198.18.0.1',
    dst: '198.18.0.2',
    sport: 31000,
    dport: 21000,
  };
  const frags = () => buildIpv4Fragments(buildUdpFrame({ ...flow, payload: Buffer.alloc(3000, 7), ipv4: { id: 77 } }), 1480, { id: 77 });
  const wire = (frames: Buffer[]) =>
    decodeCapture(
      frames.map((f) => ({ data: f.toString('base64'), len: f.length, status: 0, pkttype: 0, vlanTci: 0, vlanTpid: 0, tsNs: 0 })),
    );

  it('passes sound fragments, and names a wrong IPv4 header checksum, a truncated frame and a frame longer than its IP length, each on its own', () => {
    expect(judgeSentFrames(wire(frags()))).toEqual([]);
    const [a, b, c] = frags();
    const badSum = Buffer.from(a!);
    badSum.writeUInt16BE(badSum.readUInt16BE(24) ^ 0x1111, 24);
    const truncated = b!.subarray(0, b!.length - 10);
    const long = Buffer.concat([c!, Buffer.alloc(100, 0)]);
    const f = judgeSentFrames(wire([badSum, truncated, long]));
    expect(f.map((x) => [x.kind, x.count])).toEqual([
      ['truncated', 1],
      ['wrong-length', 1],
      ['bad-ip-checksum', 1],
    ]);
    expect(f[0]!.detail).toMatch(/^1 frame\(s\) left the sender shorter than their IP length \(truncated\); first: frame 1 /);
    expect(f[2]!.detail).toMatch(/wrong IPv4 header checksum; first: frame 0 \(IP ID\/fragment 77, offset 0\): 0x/);
  });

  it('names a fragment that reached the wire twice; another datagram with other IDs is not a copy', () => {
    const [a, b, c] = frags();
    const other = buildIpv4Fragments(buildUdpFrame({ ...flow, payload: Buffer.alloc(3000, 7), ipv4: { id: 78 } }), 1480, { id: 78 });
    expect(judgeSentFrames(wire([...frags(), ...other]))).toEqual([]);
    const f = judgeSentFrames(wire([a!, b!, b!, c!, c!]));
    expect(f.map((x) => [x.kind, x.count])).toEqual([['fragment-copies', 2]]);
    expect(f[0]!.detail).toBe(
      '2 frame(s) reached the wire more than once (a sender sends each fragment once: the device made copies); first: fragment ID 77, offset 1480 (frame 2)',
    );
  });

  it('counts datagrams whose fragments do not cover them', () => {
    const [a, b, c] = frags();
    expect(incompleteDatagrams(wire([a!, b!, c!]))).toBe(0);
    expect(incompleteDatagrams(wire([c!, a!, b!]))).toBe(0);
    expect(incompleteDatagrams(wire([a!, c!]))).toBe(1);
    expect(incompleteDatagrams(wire([a!, b!]))).toBe(1);
  });
});

describe('a datagram the set-up altered before it reached the DUT', () => {
  it('is no fault of the stack when delivered exactly as it arrived, nor when it must be dropped', () => {
    const asArrived = new Map([
      [0, Buffer.from('abcdXfgh')],
      [1, Buffer.from('bZd')],
    ]);
    const t = judgeDelivery([dg(0, 'abcdefgh'), dg(1, 'bad', 'drop')], [got('abcdXfgh'), got('bZd')], new Set(), asArrived);
    expect(t.faults).toEqual([]);
    expect(t.fate).toEqual(['delivered as altered before the DUT', 'delivered as altered before the DUT']);
    // Bytes that are neither what was sent nor what arrived are still the stack's.
    expect(judgeDelivery([dg(0, 'abcdefgh')], [got('abcdYfgh')], new Set(), asArrived).faults.map((f) => f.kind)).toEqual([
      'missing',
      'corrupt',
    ]);
  });

  it('reassembles the fragments as the DUT captured them, two altered bytes cancelling in the UDP checksum', () => {
    const payload = Buffer.alloc(64, 0x11);
    const spec = {
      family: 4 as const,
      srcMac: '02:00:00:00:00:01',
      dstMac: '02:00:00:00:00:02',
      src,
      dst: '198.18.0.1',
      sport: 31000,
      dport: 20000,
    };
    const frags = buildIpv4Fragments(buildUdpFrame({ ...spec, payload, ipv4: { id: 7 } }), 24, { id: 7 });
    expect(frags.length).toBeGreaterThanOrEqual(3);
    // The first data byte of fragments 1 and 2 moved by +1 and -1: the UDP checksum still verifies.
    const alter = (f: Buffer, delta: number) => {
      const g = Buffer.from(f);
      g[34] = (g[34]! + delta) & 0xff;
      return g;
    };
    const arrived = [frags[0]!, alter(frags[1]!, 1), alter(frags[2]!, -1), ...frags.slice(3)];
    const traces = arrived.map((f, i) =>
      f === frags[i] ? { arrival: 'reached' as const } : { arrival: 'altered-at-peer' as const, offsets: [34], got: f.subarray(14) },
    );
    const owner = frags.map(() => 0);
    const expected = Buffer.from(payload);
    expected[24 - 8]! += 1;
    expected[48 - 8]! -= 1;
    expect(reassembleUdp(arrived)).toEqual(expected);
    expect(asArrivedPayloads(frags, owner, traces)).toEqual(new Map([[0, expected]]));
    // Nothing altered: nothing to read differently.
    expect(
      asArrivedPayloads(
        frags,
        owner,
        frags.map(() => ({ arrival: 'reached' as const })),
      ),
    ).toEqual(new Map());
    // A fragment that never arrived: no reading.
    expect(reassembleUdp(arrived.slice(1))).toBeUndefined();
  });
});
