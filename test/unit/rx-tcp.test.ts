import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CapturedFrame } from '../../harness/agent/protocol.js';
import { buildTcpFrame, parseFrame, tcpOpt, verifyL4 } from '../../harness/codec/index.js';
import { judgeTcpRx, tcpPlannedFrames } from '../../harness/checks/rx-csum/tcp-judge.js';
import {
  dutMss,
  finFrame,
  nextBatch,
  planSegments,
  readAcks,
  readHandshake,
  segmentFrame,
  type Handshake,
  type TcpEnds,
} from '../../harness/checks/rx-csum/tcp-plan.js';
import { decodeCapture, TP_STATUS_CSUM_VALID } from '../../harness/checks/wire.js';
import { captured } from '../helpers/frames.js';

const ends: TcpEnds = {
  family: 4,
  peerMac: '02:00:00:00:00:02',
  dutMac: '02:00:00:00:00:01',
  peer: '198.18.0.2',
  dut: '198.18.0.1',
  sport: 40000,
  dport: 20000,
};
const cap = (data: Buffer, status = 0): CapturedFrame => captured(data, { status });
const fromDut = (o: { seq?: number; ack?: number; flags: string; window?: number; options?: Buffer }) =>
  buildTcpFrame({ family: 4, src: ends.dut, dst: ends.peer, sport: ends.dport, dport: ends.sport, ...o });
const fromPeer = (o: { seq?: number; ack?: number; flags: string; options?: Buffer }) =>
  buildTcpFrame({ family: 4, src: ends.peer, dst: ends.dut, sport: ends.sport, dport: ends.dport, ...o });
const ts = (val: number, ecr: number) => Buffer.concat([tcpOpt.nop(), tcpOpt.nop(), tcpOpt.timestamps(val, ecr)]);

const hs: Handshake = { seq: 0xfffff000, ack: 5001, ts: { val: 101, ecr: 77 }, wscale: 7, window: 64240 };

describe('readHandshake', () => {
  it('reads sequence numbers, window, scale and timestamps from the SYN-ACK and the final ACK', () => {
    const synAck = fromDut({
      seq: 5000,
      ack: 0xfffff000,
      flags: 'SA',
      window: 64240,
      options: Buffer.concat([tcpOpt.mss(1460), tcpOpt.sackPermitted(), ts(77, 100), tcpOpt.nop(), tcpOpt.wscale(7)]),
    });
    const ack = fromPeer({ seq: 0xfffff000, ack: 5001, flags: 'A', options: ts(100, 77) });
    const frames = decodeCapture([cap(fromPeer({ seq: 0xffffefff, flags: 'S' })), cap(synAck), cap(ack)]);
    expect(readHandshake(frames, ends)).toEqual(hs);
    expect(dutMss(frames, ends)).toBe(1460);
  });

  it('works without timestamps, and says what is missing', () => {
    const synAck = fromDut({ seq: 9, ack: 1, flags: 'SA', window: 1000 });
    const ack = fromPeer({ seq: 1, ack: 10, flags: 'A' });
    expect(readHandshake(decodeCapture([cap(synAck), cap(ack)]), ends)).toEqual({ seq: 1, ack: 10, wscale: 0, window: 1000 });
    expect(readHandshake(decodeCapture([cap(ack)]), ends)).toMatch(/no SYN-ACK from 198\.18\.0\.1 port 20000/);
    expect(readHandshake(decodeCapture([cap(synAck)]), ends)).toMatch(/no ACK completing the handshake/);
  });
});

describe('segments', () => {
  const segs = planSegments(5, [10, 1, 1400]);

  it('plans contiguous offsets, and corrupted copies of the same length with other bytes', () => {
    expect(segs.map((s) => [s.offset, s.good.length, s.bad.length])).toEqual([
      [0, 10, 10],
      [10, 1, 1],
      [11, 1400, 1400],
    ]);
    expect(segs.every((s) => !s.good.equals(s.bad))).toBe(true);
  });

  it('builds good segments with a right checksum and bad copies at the same sequence number with a wrong one', () => {
    for (const s of segs) {
      const good = parseFrame(segmentFrame(ends, hs, s, 'good'));
      const badFrame = segmentFrame(ends, hs, s, 'bad');
      const bad = parseFrame(badFrame);
      expect(verifyL4(segmentFrame(ends, hs, s, 'good')).state).toBe('good');
      expect(verifyL4(badFrame).state).toBe('bad');
      // Sequence numbers wrap past 2^32.
      expect(good.l4?.tcp?.seq).toBe((hs.seq + s.offset) >>> 0);
      expect(bad.l4?.tcp).toMatchObject({ seq: good.l4?.tcp?.seq, ack: 5001, flags: 0x18 });
      expect(bad.l4?.tcp?.options.map((o) => o.kind)).toEqual([1, 1, 8]);
    }
    expect(parseFrame(finFrame(ends, hs, 1411)).l4?.tcp).toMatchObject({ seq: (hs.seq + 1411) >>> 0, flags: 0x11 });
  });

  it('sends what the window allows (at least one segment), each bad copy once and before its good one', () => {
    const st = { acked: 0, window: 12, badSent: [false, false, false] };
    expect(nextBatch(segs, st)).toEqual([
      { seg: 0, bad: true },
      { seg: 0, bad: false },
      { seg: 1, bad: true },
      { seg: 1, bad: false },
    ]);
    expect(nextBatch(segs, { acked: 11, window: 0, badSent: [true, true, false] })).toEqual([
      { seg: 2, bad: true },
      { seg: 2, bad: false },
    ]);
    expect(nextBatch(segs, { acked: 5, window: 100_000, badSent: [true, true, true] })).toEqual([
      { seg: 0, bad: false },
      { seg: 1, bad: false },
      { seg: 2, bad: false },
    ]);
    expect(nextBatch(segs, { acked: 1411, window: 100, badSent: [true, true, true] })).toEqual([]);
  });

  it('reads the highest acknowledgement of this stream and its scaled window, across the 2^32 wrap', () => {
    const acks = [
      fromDut({ seq: 5001, ack: (hs.seq + 10) >>> 0, flags: 'A', window: 500 }),
      fromDut({ seq: 5001, ack: (hs.seq + 11) >>> 0, flags: 'A', window: 400 }),
      fromDut({ seq: 5001, ack: (hs.seq + 5) >>> 0, flags: 'A', window: 900 }),
      // Another connection, and an ack from before the stream: not ours.
      buildTcpFrame({ family: 4, src: ends.dut, dst: ends.peer, sport: ends.dport, dport: 1, ack: (hs.seq + 1400) >>> 0, flags: 'A' }),
      fromDut({ seq: 5001, ack: (hs.seq - 10) >>> 0, flags: 'A', window: 1 }),
    ];
    expect(readAcks(decodeCapture(acks.map((a) => cap(a))), ends, hs, 1411)).toEqual({ acked: 11, window: 400 * 128 });
    expect(readAcks([], ends, hs, 1411)).toBeUndefined();
  });
});

describe('judgeTcpRx', () => {
  const segs = planSegments(9, [100, 200, 300]);
  const planned = tcpPlannedFrames(ends, hs, segs);
  const good = Buffer.concat(segs.map((s) => s.good));
  const want = { bytes: good.length, sha256: createHash('sha256').update(good).digest('hex') };
  const all = decodeCapture(planned.map((p) => cap(p.frame)));

  it('passes the whole stream read intact with every bad copy counted', () => {
    expect(planned.map((p) => [p.index, p.kind, p.csumOk])).toEqual([
      [0, 'good', true],
      [1, 'good', true],
      [2, 'good', true],
      [3, 'bad-l4', false],
      [4, 'bad-l4', false],
      [5, 'bad-l4', false],
    ]);
    const t = judgeTcpRx({ planned, segs, captured: all, counters: { TcpInCsumErrors: 3 }, stream: want, want });
    expect(t).toMatchObject({ faults: [], delivered: 600, goodSeen: 3, badSeen: 3, counted: { TcpInCsumErrors: [3, 3] } });
  });

  it('fails a stream of the right length with other bytes: a corrupted copy was delivered', () => {
    const t = judgeTcpRx({
      planned,
      segs,
      captured: all,
      counters: { TcpInCsumErrors: 2 },
      stream: { bytes: 600, sha256: 'ab'.repeat(32) },
      want,
    });
    expect(t.faults.map((f) => f.kind)).toEqual(['delivered-bad', 'uncounted']);
  });

  it('tells a short stream whose next segment reached the DUT from one whose next segment never did', () => {
    const short = { bytes: 150, sha256: 'x' };
    expect(judgeTcpRx({ planned, segs, captured: all, counters: { TcpInCsumErrors: 3 }, stream: short, want }).faults[0]).toMatchObject({
      kind: 'dropped-good',
      frames: [1],
    });
    const without1 = decodeCapture(planned.filter((p) => p.index !== 1).map((p) => cap(p.frame)));
    expect(
      judgeTcpRx({ planned, segs, captured: without1, counters: { TcpInCsumErrors: 3 }, stream: short, want }).faults[0],
    ).toMatchObject({ kind: 'lost', detail: expect.stringMatching(/read 150 of 600 bytes: segment 1/) });
  });

  it("would have passed with a corrupted copy that never reached the DUT; now its arrival decides (set-up loss or the DUT's)", () => {
    const noBad5 = decodeCapture(planned.filter((p) => p.index !== 5).map((p) => cap(p.frame)));
    const base = { planned, segs, captured: noBad5, counters: { TcpInCsumErrors: 2 }, stream: want, want };
    expect(judgeTcpRx(base).faults).toEqual([]);
    const traces = planned.map((p) => ({ arrival: p.index === 5 ? ('not-sent' as const) : ('reached' as const) }));
    const proof = { traces, must: [3, 4, 5], dutLoss: {}, captureDropped: { dut: 0, peer: 0 } };
    expect(judgeTcpRx({ ...base, arrivals: proof }).faults).toMatchObject([{ kind: 'not-sent', status: 'error', count: 1, frames: [5] }]);
    const lost = planned.map((p) => ({ arrival: p.index === 5 ? ('lost' as const) : ('reached' as const) }));
    const f = judgeTcpRx({ ...base, arrivals: { ...proof, traces: lost, dutLoss: { rx_dropped: 1 } } }).faults;
    expect(f).toMatchObject([{ kind: 'lost', count: 1, frames: [5] }]);
    expect(f[0]!.status).toBeUndefined();
  });

  it('fails a corrupted segment the device reported CSUM_VALID, and records validated good ones', () => {
    const captured = decodeCapture(planned.map((p) => cap(p.frame, TP_STATUS_CSUM_VALID)));
    const t = judgeTcpRx({ planned, segs, captured, counters: { TcpInCsumErrors: 3 }, stream: want, want });
    expect(t.faults.map((f) => [f.kind, f.frames])).toEqual([['valid-bad', [3, 4, 5]]]);
    expect(t.goodValidated).toBe(3);
  });
});
