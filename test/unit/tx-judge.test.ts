import { describe, expect, it } from 'vitest';
import type { CapturedFrame } from '../../harness/agent/protocol.js';
import { buildTcpFrame, buildUdpFrame, partialOffsets, verifyL4 } from '../../harness/codec/index.js';
import { judgeExact } from '../../harness/checks/tx-csum/exact.js';
import { accountDatagrams, accountStream, judgeChecksums } from '../../harness/checks/tx-csum/judge.js';
import { txOutcome } from '../../harness/checks/tx-csum/outcome.js';
import { zeroSumPayload } from '../../harness/checks/payloads.js';
import { decodeCapture, TP_STATUS_CSUMNOTREADY, TP_STATUS_VLAN_VALID } from '../../harness/checks/wire.js';
import { createRng } from '../../harness/codec/random.js';
import { captured } from '../helpers/frames.js';

const flow = { family: 4 as const, src: '198.18.0.1', dst: '198.18.0.2', sport: 30000, dport: 20000 };
const cap = (data: Buffer, status = 0, extra: Partial<CapturedFrame> = {}): CapturedFrame => captured(data, { status, ...extra });
const udp = (payload: Buffer, checksum?: 'correct' | 'partial' | 'zero' | number, family: 4 | 6 = 4) =>
  buildUdpFrame({
    ...flow,
    family,
    src: family === 4 ? flow.src : '2001:db8::1',
    dst: family === 4 ? flow.dst : '2001:db8::2',
    payload,
    checksum,
  });

describe('judgeChecksums', () => {
  it('passes complete and correctly seeded partial frames, and tells them apart', () => {
    const good = udp(Buffer.from('hello'));
    const partial = udp(Buffer.from('world'), 'partial');
    const t = judgeChecksums(decodeCapture([cap(good), cap(partial, TP_STATUS_CSUMNOTREADY)]), 'correct');
    expect(t).toMatchObject({ frames: 2, complete: 1, partial: 1, faults: [] });
  });

  it('catches a wrong checksum, a wrong seed, a missing checksum and a bad IPv4 header', () => {
    const bad = udp(Buffer.from('hello'), 0x1234);
    const badSeed = udp(Buffer.from('world'), 0x4321);
    const absent = udp(Buffer.from('x'), 'zero');
    const badHdr = udp(Buffer.from('y'));
    badHdr[14 + 10]! ^= 0xff;
    const t = judgeChecksums(decodeCapture([cap(bad), cap(badSeed, TP_STATUS_CSUMNOTREADY), cap(absent), cap(badHdr)]), 'correct');
    expect(t.faults.map((f) => f.reason)).toEqual([
      expect.stringMatching(/checksum 0x1234 is wrong/),
      expect.stringMatching(/wrong seed/),
      expect.stringMatching(/is 0 \(absent\)/),
      expect.stringMatching(/IPv4 header checksum/),
    ]);
  });

  it('applies the UDP zero rule: a sum folding to zero must be 0xFFFF on the wire', () => {
    const rng = createRng(7);
    for (const family of [4, 6] as const) {
      const f = { ...flow, family, src: family === 4 ? flow.src : '2001:db8::1', dst: family === 4 ? flow.dst : '2001:db8::2' };
      const payload = zeroSumPayload(rng, 31, f);
      const right = buildUdpFrame({ ...f, payload });
      expect(verifyL4(right).found).toBe(0xffff);
      expect(judgeChecksums(decodeCapture([cap(right)]), 'ffff').faults).toEqual([]);
      // 0x0000 verifies arithmetically but means "no checksum" (IPv4) or is illegal (IPv6).
      const wrong = buildUdpFrame({ ...f, payload, checksum: 0 });
      expect(judgeChecksums(decodeCapture([cap(wrong)]), 'ffff').faults).toHaveLength(1);
    }
  });

  it('requires checksum 0 for SO_NO_CHECK datagrams', () => {
    expect(judgeChecksums(decodeCapture([cap(udp(Buffer.from('ab'), 'zero'))]), 'zero').faults).toEqual([]);
    expect(judgeChecksums(decodeCapture([cap(udp(Buffer.from('ab')))]), 'zero').faults).toHaveLength(1);
  });
});

describe('accounting', () => {
  it('finds missing, duplicated and altered datagrams', () => {
    const sent = [Buffer.from(''), Buffer.from('a'), Buffer.from('bb'), Buffer.from('a')];
    const frames = decodeCapture([udp(sent[0]!), udp(sent[1]!), udp(Buffer.from('bx')), udp(sent[1]!)].map((d) => cap(d)));
    const acct = accountDatagrams(sent, frames);
    expect(acct.missing).toBe(1);
    expect(acct.unexpected).toHaveLength(1);
  });

  it('rebuilds a TCP stream and spots holes and changed retransmissions', () => {
    const seg = (seq: number, payload: Buffer, flags = 0x18) => buildTcpFrame({ ...flow, seq, ack: 1, flags, window: 100, payload });
    const data = Buffer.from('abcdefgh');
    const syn = seg(999, Buffer.alloc(0), 0x02);
    const ok = decodeCapture(
      [syn, seg(1000, data.subarray(0, 3)), seg(1003, data.subarray(3)), seg(1003, data.subarray(3))].map((d) => cap(d)),
    );
    expect(accountStream(data, ok)).toMatchObject({ ok: true, segments: 3, retransmitted: 1 });
    const hole = decodeCapture([syn, seg(1000, data.subarray(0, 3))].map((d) => cap(d)));
    expect(accountStream(data, hole)).toMatchObject({ ok: false, reason: expect.stringMatching(/byte 3 of 8 never appeared/) });
    const changed = decodeCapture([syn, seg(1000, data.subarray(0, 3)), seg(1003, Buffer.from('dEfgh'))].map((d) => cap(d)));
    expect(accountStream(data, changed)).toMatchObject({ ok: false, reason: expect.stringMatching(/byte 4 is 0x45/) });
  });
});

describe('judgeExact (generic csum_start/csum_offset)', () => {
  const sentFrame = udp(Buffer.from('payload!'), 'partial');
  const offs = partialOffsets(sentFrame)!;
  const sent = [{ frame: sentFrame, ...offs }];

  it('accepts the frame completed as hardware would, or delivered partial unchanged', () => {
    const completed = udp(Buffer.from('payload!'));
    expect(judgeExact(sent, decodeCapture([cap(completed)])).tally).toMatchObject({ complete: 1, faults: [] });
    const partial = decodeCapture([cap(sentFrame, TP_STATUS_CSUMNOTREADY, { csumStart: offs.csumStart, csumOffset: offs.csumOffset })]);
    expect(judgeExact(sent, partial).tally).toMatchObject({ partial: 1, faults: [] });
  });

  it('fails a frame left uncompleted, one with bytes changed, and counts missing', () => {
    expect(judgeExact(sent, decodeCapture([cap(sentFrame)])).tally.faults[0]!.reason).toMatch(/expected 0x/);
    const altered = Buffer.from(sentFrame);
    altered[altered.length - 1]! ^= 1;
    const r = judgeExact(sent, decodeCapture([cap(altered)]));
    expect(r.tally.faults[0]).toBeDefined();
    expect(r.tally.faults[0]!.reason).toMatch(/matches no frame sent/);
    // The altered frame is the sent one, changed: counted once, not also as missing.
    expect(r.missing).toBe(0);
    expect(judgeExact(sent, []).missing).toBe(1);
  });

  it('names where a misplaced checksum landed (a device that truncates csum_offset to 8 bits)', () => {
    const frame = Buffer.concat([Buffer.alloc(14, 1), createRng(3).bytes(400)]);
    const s = { frame, csumStart: 300, csumOffset: 10 };
    const wire = Buffer.from(frame);
    wire.writeUInt16BE(wire.readUInt16BE(54) ^ 0xffff, 310 - 256);
    expect(judgeExact([s], decodeCapture([cap(wire)])).tally.faults[0]!.reason).toMatch(/field at 310\) differs at byte\(s\) 54, 55/);
  });

  it('puts back a VLAN tag the receiver stripped', () => {
    const tagged = buildUdpFrame({ ...flow, payload: Buffer.from('tag'), checksum: 'partial', vlan: [{ tpid: 0x8100, tci: 42 }] });
    const o = partialOffsets(tagged)!;
    const stripped = Buffer.concat([tagged.subarray(0, 12), tagged.subarray(16)]);
    const frames = decodeCapture([
      cap(stripped, TP_STATUS_CSUMNOTREADY | TP_STATUS_VLAN_VALID, {
        vlanTci: 42,
        vlanTpid: 0x8100,
        csumStart: o.csumStart - 4,
        csumOffset: o.csumOffset,
      }),
    ]);
    expect(judgeExact([{ frame: tagged, ...o }], frames).tally).toMatchObject({ partial: 1, faults: [] });
  });
});

describe('txOutcome', () => {
  it('fails when nothing arrived and names the delivery mode on pass', () => {
    const empty = txOutcome({
      what: 'IPv4 UDP',
      sent: 3,
      tally: { frames: 0, complete: 0, partial: 0, faults: [] },
      accounting: [],
      frames: [],
      evidence: {},
    });
    expect(empty.outcome).toMatchObject({ status: 'fail', message: expect.stringMatching(/nothing of the 3 sent arrived/) });
    const ok = txOutcome({
      what: 'IPv4 UDP',
      sent: 2,
      tally: { frames: 2, complete: 0, partial: 2, faults: [] },
      accounting: [],
      frames: [],
      evidence: {},
    });
    expect(ok.outcome).toMatchObject({ status: 'pass', evidence: { delivery: 'partial' } });
  });
});
