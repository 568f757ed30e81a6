/** The SCTP judges over crafted frames: wrong, zero and internet-checksum CRC fields fail; answers and drops are accounted. */
import { describe, expect, it } from 'vitest';
import { checksum } from '../../harness/codec/checksum.js';
import { judgeSctpRx, judgeSctpTx } from '../../harness/checks/sctp-csum/judge.js';
import { planInits, rightCrc, sctpOffset, type SctpKind } from '../../harness/checks/sctp-csum/plan.js';
import { decodeCapture, type WireFrame } from '../../harness/checks/wire.js';
import { buildSctpFrame, sctpInitValue, SCTP_INIT_ACK, verifySctpFrame } from '../../harness/codec/index.js';
import { createRng } from '../../harness/codec/random.js';

const ENDS = {
  family: 4 as const,
  srcMac: '02:00:00:00:00:02',
  dstMac: '02:00:00:00:00:01',
  src: '192.0.2.2',
  dst: '192.0.2.1',
  dport: 5000,
};

function wire(frames: Buffer[], opts: { csumValid?: boolean } = {}): WireFrame[] {
  return decodeCapture(
    frames.map((d) => ({
      data: d.toString('base64'),
      len: d.length,
      status: opts.csumValid ? 128 : 0,
      pkttype: 0,
      vlanTci: 0,
      vlanTpid: 0,
      tsNs: 0,
    })),
  );
}

/** The DUT's answer to an INIT: an INIT ACK whose verification tag is the INIT's initiate tag. */
function initAck(tag: number, checksum: 'correct' | 'zero' | number = 'correct'): Buffer {
  return buildSctpFrame({
    family: 4,
    src: '192.0.2.1',
    dst: '192.0.2.2',
    sport: 5000,
    dport: 40000,
    vtag: tag,
    checksum,
    chunks: [{ type: SCTP_INIT_ACK, value: sctpInitValue({ initiateTag: 99, initialTsn: 1, params: Buffer.alloc(300, 7) }) }],
  });
}

describe('planInits', () => {
  it('good INITs verify, bad and zero ones do not; every answer fits the MTU', () => {
    const kinds: SctpKind[] = ['good', 'bad-crc', 'zero-crc', 'good'];
    const p = planInits(createRng(3), ENDS, kinds, 1500);
    expect(p.map((x) => verifySctpFrame(x.frame).state)).toEqual(['good', 'bad', 'bad', 'good']);
    expect(verifySctpFrame(p[2]!.frame).found).toBe(0);
    expect(p.every((x) => x.frame.length <= 1500 - 700 + 14 + 20 + 12 + 20 + 20)).toBe(true);
    expect(new Set(p.map((x) => x.initiateTag)).size).toBe(4);
    expect(rightCrc(p[0]!.frame, 4)).toBe(verifySctpFrame(p[0]!.frame).expected);
  });
});

describe('judgeSctpTx', () => {
  it('right CRCs pass and name the INITs answered; zero and an internet checksum are named', () => {
    const good = initAck(11);
    const zero = initAck(12, 'zero');
    const inet = Buffer.from(good);
    const off = sctpOffset(4);
    const zeroed = Buffer.from(inet.subarray(off));
    zeroed.fill(0, 8, 12);
    inet.writeUInt32BE(0, off + 8);
    inet.writeUInt16BE(checksum(zeroed), off + 8);
    const t = judgeSctpTx(wire([good, zero, inet]));
    expect(t.complete).toBe(1);
    expect(t.faults.map((f) => f.reason)).toEqual([
      expect.stringMatching(/left 0$/),
      expect.stringMatching(/holds an internet checksum, not a CRC32c$/),
    ]);
    expect([...t.answered]).toEqual([
      [11, 2],
      [12, 1],
    ]);
  });

  it('a CHECKSUM_PARTIAL frame passes only with the field 0 and the offsets on the SCTP header', () => {
    const f = wire([initAck(5, 'zero')])[0]!;
    expect(judgeSctpTx([{ ...f, partial: true, csumStart: sctpOffset(4), csumOffset: 8 }]).partial).toBe(1);
    expect(judgeSctpTx([{ ...f, partial: true, csumStart: sctpOffset(4), csumOffset: 6 }]).faults).toHaveLength(1);
  });
});

describe('judgeSctpRx', () => {
  const planned = planInits(createRng(9), ENDS, ['good', 'bad-crc', 'zero-crc'], 1500);
  const answered = new Map([[planned[0]!.initiateTag, 1]]);

  it('answered good, unanswered and counted bad, all seen: no fault', () => {
    const r = judgeSctpRx({ planned, dutIn: wire(planned.map((p) => p.frame)), answered, counters: { SctpChecksumErrors: 2 } });
    expect(r.faults).toEqual([]);
    expect(r.counted).toEqual({ receptions: 2, delta: 2 });
  });

  it('an answered bad INIT, an uncounted one, one claimed valid, one that never arrived: each named', () => {
    const both = new Map([...answered, [planned[1]!.initiateTag, 1]]);
    expect(
      judgeSctpRx({ planned, dutIn: wire(planned.map((p) => p.frame)), answered: both, counters: { SctpChecksumErrors: 2 } }).faults.map(
        (f) => f.kind,
      ),
    ).toEqual(['delivered-bad']);
    expect(judgeSctpRx({ planned, dutIn: wire(planned.map((p) => p.frame)), answered, counters: {} }).faults.map((f) => f.kind)).toEqual([
      'uncounted',
    ]);
    expect(
      judgeSctpRx({
        planned,
        dutIn: wire(
          planned.map((p) => p.frame),
          { csumValid: true },
        ),
        answered,
        counters: { SctpChecksumErrors: 2 },
      }).faults.map((f) => f.kind),
    ).toEqual(['valid-bad']);
    expect(judgeSctpRx({ planned, dutIn: wire([planned[0]!.frame]), answered, counters: {} }).faults.map((f) => f.kind)).toEqual(['lost']);
    // Traced by the injection: a corrupted INIT that never left the peer is the harness's loss, not a pass and not the device's fault.
    const traces = planned.map((p) => ({ arrival: p.index === 0 ? ('reached' as const) : ('not-sent' as const) }));
    const r = judgeSctpRx({
      planned,
      dutIn: wire([planned[0]!.frame]),
      answered,
      counters: {},
      arrivals: { traces, dutLoss: {}, captureDropped: { dut: 0, peer: 0 }, peerLoss: {} },
    });
    expect(r.faults.map((f) => [f.kind, f.status])).toEqual([['not-sent', 'error']]);
  });
});
