import { describe, expect, it } from 'vitest';
import type { CapturedFrame } from '../../harness/agent/protocol.js';
import { sameOnesComplement } from '../../harness/codec/checksum.js';
import { makeTci, parseFrame, verifyL4 } from '../../harness/codec/index.js';
import type { DeliveredDatagram } from '../../harness/checks/delivered.js';
import { judgeRx } from '../../harness/checks/rx-csum/judge.js';
import { hardwareValidated, rxOutcome } from '../../harness/checks/rx-csum/outcome.js';
import {
  ipPacketKey,
  planFrames,
  wrongChecksum,
  type FrameSpec,
  type PlannedFrame,
  type RxFlow,
  type RxKind,
} from '../../harness/checks/rx-csum/plan.js';
import { decodeCapture, TP_STATUS_CSUM_VALID, TP_STATUS_VLAN_VALID } from '../../harness/checks/wire.js';
import { createRng } from '../../harness/codec/random.js';
import { captured } from '../helpers/frames.js';

const base = { srcMac: '02:00:00:00:00:02', dstMac: '02:00:00:00:00:01', sport: 31000, dport: 21000 };
const flow4: RxFlow = { ...base, family: 4, src: '198.18.0.2', dst: '198.18.0.1' };
const flow6: RxFlow = { ...base, family: 6, src: '2001:db8::2', dst: '2001:db8::1' };
const cap = (data: Buffer, status = 0, extra: Partial<CapturedFrame> = {}): CapturedFrame => captured(data, { status, ...extra });
const deliveredOf = (p: PlannedFrame): DeliveredDatagram => ({ family: p.family, payload: p.payload, from: p.src, port: p.sport });

function plan(kinds: [RxKind, RxFlow][], seed = 1, length = 40): PlannedFrame[] {
  const specs: FrameSpec[] = kinds.map(([kind, flow]) => ({ kind, flow }));
  return planFrames(
    createRng(seed),
    specs,
    specs.map(() => length),
  );
}

/** A sound DUT: every frame reaches the stack, good ones are delivered, bad ones counted. */
function sound(planned: PlannedFrame[]) {
  const counters: Record<string, number> = {};
  for (const p of planned) if (p.counter) counters[p.counter] = (counters[p.counter] ?? 0) + 1;
  return {
    planned,
    sent: planned.map(() => 1),
    delivered: planned.filter((p) => p.expect === 'deliver').map(deliveredOf),
    captured: decodeCapture(planned.map((p) => cap(p.frame))),
    counters,
  };
}

describe('planFrames', () => {
  it('gives each kind the checksum state, fate and counter the issue names', () => {
    const p = plan([
      ['good', flow4],
      ['bad-l4', flow4],
      ['zero', flow4],
      ['zero', flow6],
      ['bad-ip', flow4],
      ['bad-l4', flow6],
    ]);
    expect(p.map((f) => [f.kind, f.family, verifyL4(f.frame).state, f.expect, f.counter ?? '-'])).toEqual([
      ['good', 4, 'good', 'deliver', '-'],
      ['bad-l4', 4, 'bad', 'drop', 'UdpInCsumErrors'],
      ['zero', 4, 'absent', 'deliver', '-'],
      ['zero', 6, 'bad', 'drop', 'Udp6InCsumErrors'],
      ['bad-ip', 4, 'good', 'drop', 'IpInHdrErrors'],
      ['bad-l4', 6, 'bad', 'drop', 'Udp6InCsumErrors'],
    ]);
    expect(p.map((f) => f.csumOk)).toEqual([true, false, true, false, true, false]);
    expect(parseFrame(p[4]!.frame).ip).toMatchObject({ family: 4, headerChecksumOk: false });
    expect(parseFrame(p[0]!.frame).ip).toMatchObject({ headerChecksumOk: true });
  });

  it('never makes a corrupted UDP checksum 0 (legal on IPv4) or equal to the right one in ones complement', () => {
    for (let seed = 0; seed < 200; seed++) {
      const rng = createRng(seed);
      for (const right of [0x0000, 0xffff, 0x1234, rng.int(0, 0xffff)]) {
        const v = wrongChecksum(rng, right);
        expect(v).not.toBe(0);
        expect(sameOnesComplement(v, right)).toBe(false);
      }
    }
  });

  it('keeps payloads unique even when lengths repeat at 0 and 1', () => {
    const specs: FrameSpec[] = Array.from({ length: 50 }, (_, i) => ({ kind: i % 2 ? 'good' : 'bad-l4', flow: flow4 }));
    const p = planFrames(
      createRng(3),
      specs,
      specs.map((_, i) => i % 2),
    );
    expect(new Set(p.map((f) => f.payload.toString('hex'))).size).toBe(50);
  });

  it('keys a tagged frame by its IP packet: the same with the tag in the data or stripped by the device', () => {
    const f = planFrames(createRng(1), [{ kind: 'good', flow: flow4, vlan: [{ tpid: 0x8100, tci: makeTci(0, 5) }] }], [10])[0]!;
    const stripped = Buffer.concat([f.frame.subarray(0, 12), f.frame.subarray(16)]);
    expect(ipPacketKey(stripped)).toBe(f.key);
    // Ethernet padding after the packet does not change the key either.
    expect(ipPacketKey(Buffer.concat([f.frame, Buffer.alloc(6)]))).toBe(f.key);
  });
});

describe('judgeRx', () => {
  const mixed = () =>
    plan([
      ['good', flow4],
      ['bad-l4', flow4],
      ['good', flow6],
      ['bad-l4', flow6],
      ['bad-ip', flow4],
    ]);

  it('passes a sound DUT and tallies what reached it', () => {
    const t = judgeRx(sound(mixed()));
    expect(t.faults).toEqual([]);
    expect(t).toMatchObject({ planned: 5, reached: 5, delivered: 2, goodSeen: 2, goodValidated: 0, badSeen: 2, badValidated: 0 });
    expect(t.counted).toEqual({ UdpInCsumErrors: [1, 1], Udp6InCsumErrors: [1, 1], IpInHdrErrors: [1, 1] });
  });

  it('fails a bad frame that reached the socket', () => {
    const input = sound(mixed());
    input.delivered.push(deliveredOf(input.planned[1]!));
    const t = judgeRx(input);
    expect(t.faults.map((f) => [f.kind, f.frames])).toEqual([['delivered-bad', [1]]]);
  });

  it('tells a good frame dropped by the stack from one lost before it', () => {
    const input = sound(mixed());
    input.delivered = [];
    input.captured = decodeCapture(input.planned.filter((p) => p.index !== 2).map((p) => cap(p.frame)));
    input.counters.Udp6InCsumErrors = 1;
    expect(judgeRx(input).faults.map((f) => [f.kind, f.frames])).toEqual([
      ['dropped-good', [0]],
      ['lost', [2]],
    ]);
  });

  it('fails a wrong checksum reported CSUM_VALID, and counts good ones validated', () => {
    const input = sound(mixed());
    input.captured = decodeCapture(input.planned.map((p) => cap(p.frame, p.kind === 'bad-ip' ? 0 : TP_STATUS_CSUM_VALID)));
    const t = judgeRx(input);
    expect(t.faults.map((f) => [f.kind, f.frames])).toEqual([['valid-bad', [1, 3]]]);
    expect(t).toMatchObject({ goodValidated: 2, goodSeen: 2, badValidated: 2 });
    expect(hardwareValidated(t)).toBe('2 of 2');
  });

  it('records, without failing, IPv6 UDP without a checksum that the device marked CSUM_VALID (the stack drops it anyway)', () => {
    const input = sound(
      plan([
        ['zero', flow6],
        ['good', flow6],
      ]),
    );
    input.captured = decodeCapture(input.planned.map((p) => cap(p.frame, TP_STATUS_CSUM_VALID)));
    const t = judgeRx(input);
    expect(t).toMatchObject({ faults: [], zeroValidated: 1, badSeen: 0, goodValidated: 1 });
    const o = rxOutcome('IPv6 UDP with checksum 0', t, input.planned, {});
    expect(o.status).toBe('pass');
    expect(o.evidence.zeroChecksumReportedValid).toBe(1);
    expect(o.message).toMatch(/marked 1 IPv6 UDP datagrams without a checksum CSUM_VALID \(the stack dropped them anyway\)$/);
  });

  it('lists the payload lengths of good frames a validating device left to software', () => {
    const input = sound(
      planFrames(
        createRng(2),
        [
          { kind: 'good', flow: flow4 },
          { kind: 'good', flow: flow4 },
        ],
        [3, 500],
      ),
    );
    input.captured = decodeCapture(input.planned.map((p) => cap(p.frame, p.payload.length > 100 ? TP_STATUS_CSUM_VALID : 0)));
    const t = judgeRx(input);
    expect(t.goodUnvalidated).toEqual([0]);
    expect(rxOutcome('x', t, input.planned, {}).evidence).toMatchObject({ hardwareValidated: '1 of 2', unvalidatedPayloadLengths: [3] });
    // With RX offload off, validating at all is worth a note (the switch is not honoured).
    const off = rxOutcome('x', t, input.planned, {}, { rxOffloadOff: true });
    expect(off).toMatchObject({ status: 'pass', evidence: { validatedWithOffloadOff: true } });
    expect(off.message).toMatch(/validates although rx-checksumming is off$/);
    // GRO that could not be turned off validates in software and marks frames too: said so, whatever the offload.
    const gro = rxOutcome('x', t, input.planned, {}, { rxOffloadOff: true, groOn: true });
    expect(gro.evidence).toMatchObject({ csumValidIncludesGro: true });
    expect(gro.evidence.validatedWithOffloadOff).toBeUndefined();
    expect(gro.message).toMatch(/GRO stayed on, so CSUM_VALID includes its software validation$/);
  });

  it('fails receptions the counters did not account for (a frame seen twice counts twice)', () => {
    const input = sound(mixed());
    input.captured = decodeCapture([...input.planned, input.planned[1]!].map((p) => cap(p.frame)));
    const t = judgeRx(input);
    expect(t.faults).toEqual([
      { kind: 'uncounted', count: 1, detail: '2 receptions must raise UdpInCsumErrors, it rose by 1', frames: [1] },
    ]);
  });

  it('fails bytes no frame carried, a wrong source, and more deliveries than sends', () => {
    const input = sound(mixed());
    input.delivered.push({ family: 4, payload: Buffer.from('not sent'), from: flow4.src, port: flow4.sport });
    input.delivered[0] = { ...input.delivered[0]!, port: 9 };
    input.delivered.push(deliveredOf(input.planned[2]!));
    const t = judgeRx(input);
    expect(t.faults.map((f) => f.kind)).toEqual(['corrupt', 'duplicate']);
    expect(t.faults[0]).toMatchObject({
      count: 2,
      detail:
        '2 delivered datagram(s) differ from what was sent; first: frame 0 was delivered as from 198.18.0.2 port 9, it came from 198.18.0.2 port 31000',
    });
  });

  it('names a delivered datagram that is a sent frame altered, with the bytes that differ', () => {
    const input = sound(plan([['good', flow4]]));
    const altered = Buffer.from(input.delivered[0]!.payload);
    altered[5]! ^= 0xff;
    altered[9]! ^= 0x01;
    input.delivered[0] = { ...input.delivered[0]!, payload: altered };
    const [fault] = judgeRx(input).faults;
    const sent = input.planned[0]!.payload;
    expect(fault).toMatchObject({ kind: 'corrupt', count: 1 });
    expect(fault!.detail).toBe(
      `1 delivered datagram(s) differ from what was sent; first: frame 0 was delivered altered: 2 of its ${sent.length} payload bytes differ, first at offset 5 (sent ${sent.subarray(5, 13).toString('hex')}, delivered ${altered.subarray(5, 13).toString('hex')})`,
    );
  });

  it('judges an address written differently as the same source', () => {
    const input = sound(plan([['good', flow6]]));
    input.delivered[0]!.from = '2001:0db8:0:0::2';
    expect(judgeRx(input).faults).toEqual([]);
  });

  it('reads a tag stripped into metadata (TP_STATUS_VLAN_VALID) as the same frame', () => {
    const f = planFrames(createRng(1), [{ kind: 'bad-l4', flow: flow4, vlan: [{ tpid: 0x8100, tci: makeTci(7) }] }], [10])[0]!;
    const stripped = Buffer.concat([f.frame.subarray(0, 12), f.frame.subarray(16)]);
    const t = judgeRx({
      planned: [f],
      sent: [1],
      delivered: [],
      captured: decodeCapture([cap(stripped, TP_STATUS_VLAN_VALID, { vlanTci: 7 })]),
      counters: { UdpInCsumErrors: 1 },
    });
    expect(t).toMatchObject({ reached: 1, badSeen: 1, faults: [] });
  });
});

describe('rxOutcome', () => {
  it('passes with counts and the hardware validation in the message and evidence', () => {
    const input = sound(mixed2());
    const o = rxOutcome('IPv4 UDP', judgeRx(input), input.planned, { seedNote: 1 });
    expect(o.status).toBe('pass');
    expect(o.message).toBe(
      'IPv4 UDP: 1 delivered intact, 1 dropped (counted: UdpInCsumErrors +1), the device marked 0 of 1 good frames CSUM_VALID',
    );
    expect(o.evidence).toMatchObject({
      hardwareValidated: '0 of 1',
      badReportedValid: 0,
      frameKinds: { 'ipv4-good': 1, 'ipv4-bad-l4': 1 },
      seedNote: 1,
    });
  });

  it('fails with every fault named and the offending frames in hex', () => {
    const input = sound(mixed2());
    input.delivered.push(deliveredOf(input.planned[1]!));
    const o = rxOutcome('IPv4 UDP', judgeRx(input), input.planned, {});
    expect(o.status).toBe('fail');
    expect(o.message).toBe('IPv4 UDP: 1 frame(s) (IPv4 bad-l4) must be dropped but reached the socket');
    expect(o.evidence.frames).toEqual([{ hex: expect.stringMatching(/^[0-9a-f]+$/), reason: 'must be dropped but reached the socket' }]);
  });

  function mixed2() {
    return plan([
      ['good', flow4],
      ['bad-l4', flow4],
    ]);
  }
});

describe('rxOutcome for tagged frames a device filters', () => {
  it('is unsupported only when ethtool shows rx-vlan-filter on [fixed], nothing reached the stack and every fault is a loss', async () => {
    const { rxOutcome } = await import('../../harness/checks/rx-csum/outcome.js');
    const planned = [] as Parameters<typeof rxOutcome>[2];
    const tally = {
      planned: 4,
      reached: 0,
      delivered: 0,
      goodSeen: 0,
      goodValidated: 0,
      goodUnvalidated: [],
      badSeen: 0,
      badValidated: 0,
      zeroValidated: 0,
      counted: {},
      faults: [{ kind: 'lost' as const, count: 4, detail: 'never reached the DUT (not in its capture)', frames: [] }],
    };
    const filtered = rxOutcome('tagged', tally as never, planned, {}, { vlanFilterFixed: true });
    expect(filtered).toMatchObject({ status: 'unsupported', evidence: { filteredByDevice: true } });
    expect(rxOutcome('tagged', { ...tally, reached: 1 } as never, planned, {}, { vlanFilterFixed: true }).status).toBe('fail');
    // Before: a tagged case whose frames all vanished was unsupported whatever ethtool said; now only a fixed filter excuses it.
    expect(rxOutcome('tagged', tally as never, planned, {}).status).toBe('fail');
    const setup = { kind: 'not-sent' as const, status: 'error' as const, count: 4, detail: 'never left the peer', frames: [] };
    expect(rxOutcome('tagged', { ...tally, faults: [setup] } as never, planned, {}, { vlanFilterFixed: true }).status).toBe('error');
  });
});
