import { describe, expect, it } from 'vitest';
import {
  connectionSegments,
  receiverDropSegments,
  judgeRetransmits,
  retransEvidence,
  retransFromDelta,
  retransFromNstat,
  retransmitBound,
  sumSegments,
  TSO_PY_BYTES,
  TSO_PY_FAILS_AT,
} from '../../harness/checks/retransmits.js';
import { NicmatrixError } from '../../harness/codec/errors.js';

const MiB = 1 << 20;

describe('retransmitBound', () => {
  it("is tso.py's 10 at 4 MiB, never below 10, and grows linearly with the bytes", () => {
    expect(retransmitBound(TSO_PY_BYTES)).toBe(TSO_PY_FAILS_AT);
    expect(retransmitBound(0)).toBe(10);
    expect(retransmitBound(1)).toBe(10);
    expect(retransmitBound(MiB)).toBe(10);
    expect(retransmitBound(8 * MiB)).toBe(20);
    expect(retransmitBound(64 * MiB)).toBe(160);
    // Rounded up: a little more than 8 MiB already allows one more.
    expect(retransmitBound(8 * MiB + 1)).toBe(21);
  });
});

describe('judgeRetransmits', () => {
  it('passes below the bound and fails at it, as tso.py does for 4 MiB', () => {
    expect(judgeRetransmits({ bytes: 4 * MiB, retransSegs: 9 })).toMatchObject({ ok: true, bound: 10, found: 9 });
    const j = judgeRetransmits({ bytes: 4 * MiB, retransSegs: 10, what: 'MSG_ZEROCOPY flows' });
    expect(j).toMatchObject({ ok: false, bound: 10, found: 10, bytes: 4 * MiB });
    expect(j.message).toBe(
      "MSG_ZEROCOPY flows: TCP retransmitted 10 segment(s) over 4194304 bytes (4 MiB): expected fewer than 10 lost, found 10 (tso.py's 10 per 4 MiB, scaled); no count from the receiving socket",
    );
  });

  it('fails what the old zc storm rule (max(50, 10 % of segments)) let pass', () => {
    // 8 MiB in ~6000 segments with 45 retransmissions: below 50, so the old rule passed it.
    const j = judgeRetransmits({ bytes: 8 * MiB, retransSegs: 45 });
    expect(j.ok).toBe(false);
    expect(j.bound).toBe(20);
  });

  it('retransmissions the receiver DSACKed as duplicates are not losses; the rest are', () => {
    // A clean veth run: reordering across CPUs, nearly every retransmission answered by a DSACK.
    const j = judgeRetransmits({ bytes: 8 * MiB, retransSegs: 434, spuriousSegs: 430 });
    expect(j).toMatchObject({ ok: true, found: 434, spurious: 430, lost: 4, bound: 20 });
    expect(j.message).toBe(
      '4 TCP segment(s) lost over 8388608 bytes (8 MiB) (430 of 434 retransmissions DSACKed as duplicates), below the bound of 20',
    );
    // A device dropping frames: retransmissions nobody DSACKed.
    expect(judgeRetransmits({ bytes: 8 * MiB, retransSegs: 434, spuriousSegs: 3 })).toMatchObject({ ok: false, lost: 431 });
    // More DSACKs than retransmissions (a duplicating device) never makes a negative loss.
    expect(judgeRetransmits({ bytes: MiB, retransSegs: 2, spuriousSegs: 9 })).toMatchObject({ ok: true, lost: 0, spurious: 2 });
  });

  it("a retransmission whose original reached the receiving socket is not a loss, DSACKed or not (the receiver's count of every copy)", () => {
    // The CI failure: a clean veth under load, spurious timeouts whose DSACKs were not all counted; every segment arrived.
    const clean = judgeRetransmits({ bytes: MiB, retransSegs: 29, spuriousSegs: 14, segments: { sent: 760, received: 760 } });
    expect(clean).toMatchObject({ ok: true, lost: 0, wireLost: 0, deviceLost: 0 });
    expect(clean.message).toContain(
      '14 of 29 retransmissions DSACKed as duplicates; the receiving socket got 760 of the 760 data segments sent: 0 missing',
    );
    // A device dropping 30 frames: the receiver lacks them, whatever the DSACKs say.
    const dropping = judgeRetransmits({ bytes: MiB, retransSegs: 30, spuriousSegs: 0, segments: { sent: 760, received: 730 } });
    expect(dropping).toMatchObject({ ok: false, lost: 30, wireLost: 30 });
    expect(dropping.message).toBe(
      '30 TCP data segment(s) the sender put out never reached the receiving socket (it got 730 of 760; 30 retransmitted over 1048576 bytes (1 MiB))',
    );
    // With both counts the loss is exact, whatever the retransmissions say: 60 never arrived, though 3 were retransmitted.
    expect(judgeRetransmits({ bytes: MiB, retransSegs: 3, segments: { sent: 760, received: 700 } })).toMatchObject({ ok: false, lost: 60 });
    // A veth whose egress dropped 3 of 103 segments: no retransmission in the counters, the stream whole, 3 lost.
    expect(judgeRetransmits({ bytes: 75891, retransSegs: 0, segments: { sent: 103, received: 100 } })).toMatchObject({
      ok: false,
      lost: 3,
      bound: 10,
    });
    // Without them, the bound applies to what the retransmissions suggest.
    expect(judgeRetransmits({ bytes: MiB, retransSegs: 3 })).toMatchObject({ ok: true, lost: 3 });
    // More copies received than sent: a duplicating device could hide losses behind its copies, so the count is not used.
    expect(judgeRetransmits({ bytes: MiB, retransSegs: 30, segments: { sent: 700, received: 760 } })).toMatchObject({
      ok: false,
      lost: 30,
    });
    expect(() => judgeRetransmits({ bytes: MiB, retransSegs: 1, segments: { sent: -1, received: 0 } })).toThrow(NicmatrixError);
    expect(retransEvidence(clean)).toMatchObject({ wireLost: 0, lost: 0 });
  });

  it('a receiver that got more data segments than the sender put out fails, with no loss at all: the path made copies', () => {
    const dup = judgeRetransmits({ bytes: MiB, retransSegs: 0, segments: { sent: 760, received: 790 } });
    expect(dup).toMatchObject({ ok: false, lost: 0, copies: 30 });
    expect(dup.message).toBe(
      '0 TCP segment(s) lost over 1048576 bytes (1 MiB), below the bound of 10; the receiving socket got 790 data segments, 30 more than the 760 the sender put out: copies made on the way (a cable never duplicates a frame)',
    );
    expect(retransEvidence(dup)).toMatchObject({ copies: 30, ok: false });
    expect(judgeRetransmits({ bytes: MiB, retransSegs: 0, segments: { sent: 760, received: 760 } })).not.toHaveProperty('copies');
  });

  it("frames the receiving host's input backlogs dropped (softnet_stat) are the harness's capacity, like its interface's drops", () => {
    const counted = { peerNstat: {}, dutNstat: { TcpOutSegs: 20 }, dutLink: { tx_packets: 10 }, dutDeliversLocally: true };
    // Two segments per frame here (GSO frames on veth): each dropped frame carried two.
    expect(receiverDropSegments({ ...counted, peerLink: { softnet_dropped: 3 } })).toBe(6);
    expect(receiverDropSegments({ ...counted, peerLink: { softnet_dropped: 3, rx_dropped: 1 } })).toBe(8);
  });

  it('segment counts come from both ends of a connection, and sum only when every connection has them', () => {
    expect(connectionSegments({ dataSegsOut: 10 }, { dataSegsIn: 9 })).toEqual({ sent: 10, received: 9 });
    expect(connectionSegments({ dataSegsOut: 10 }, {})).toBeUndefined();
    expect(connectionSegments(undefined, { dataSegsIn: 9 })).toBeUndefined();
    expect(sumSegments([{ segments: { sent: 10, received: 9 } }, { segments: { sent: 5, received: 5 } }])).toEqual({
      sent: 15,
      received: 14,
    });
    expect(sumSegments([{ segments: { sent: 10, received: 9 } }, {}])).toBeUndefined();
    expect(sumSegments([])).toBeUndefined();
  });

  it('an explicit bound wins over the scaled one', () => {
    expect(judgeRetransmits({ bytes: 64 * MiB, retransSegs: 5, bound: 5 }).ok).toBe(false);
    expect(judgeRetransmits({ bytes: 64 * MiB, retransSegs: 4, bound: 5 }).ok).toBe(true);
  });

  it('names the counters that say why, only the non-zero ones', () => {
    const j = judgeRetransmits({
      bytes: MiB,
      retransSegs: 30,
      detail: { TcpExtTCPLostRetransmit: 2, TcpExtTCPTimeouts: 0, TcpExtTCPFastRetrans: 28 },
    });
    expect(j.message).toMatch(/\(TCPLostRetransmit 2, TCPFastRetrans 28\)$/);
    expect(retransEvidence(j)).toEqual({
      found: 30,
      spurious: 0,
      lost: 30,
      atReceiver: 0,
      deviceLost: 30,
      bound: 10,
      bytes: MiB,
      ok: false,
      detail: { TcpExtTCPLostRetransmit: 2, TcpExtTCPTimeouts: 0, TcpExtTCPFastRetrans: 28 },
    });
  });

  it('the message of a pass says the count and the bound', () => {
    expect(judgeRetransmits({ bytes: 1000, retransSegs: 0 }).message).toBe('0 TCP segment(s) lost over 1000 bytes, below the bound of 10');
  });

  it('rejects counts that cannot be counters', () => {
    expect(() => judgeRetransmits({ bytes: -1, retransSegs: 0 })).toThrow(NicmatrixError);
    expect(() => judgeRetransmits({ bytes: 10, retransSegs: -3 })).toThrow(/retransmission count ≥ 0, found -3/);
    expect(() => judgeRetransmits({ bytes: 10, retransSegs: Number.NaN })).toThrow(NicmatrixError);
    expect(() => judgeRetransmits({ bytes: 10, retransSegs: 1, bound: 0 })).toThrow(/bound ≥ 1/);
  });
});

describe('reading the counters', () => {
  it('from absolute nstat readings: the delta, and undefined when TcpRetransSegs is missing', () => {
    const before = { TcpRetransSegs: 100, TcpExtTCPLostRetransmit: 1, TcpExtTCPTimeouts: 4, TcpOutSegs: 9, TcpExtTCPDSACKRecvSegs: 5 };
    const after = { TcpRetransSegs: 112, TcpExtTCPLostRetransmit: 3, TcpExtTCPTimeouts: 4, TcpOutSegs: 900, TcpExtTCPDSACKRecvSegs: 8 };
    expect(retransFromNstat(before, after)).toEqual({
      retransSegs: 12,
      spuriousSegs: 3,
      detail: { TcpOutSegs: 891, TcpExtTCPDSACKRecvSegs: 3, TcpExtTCPLostRetransmit: 2, TcpExtTCPTimeouts: 0 },
    });
    expect(retransFromNstat({}, { TcpOutSegs: 3 })).toBeUndefined();
    expect(retransFromNstat({}, { TcpRetransSegs: 3 })).toBeUndefined();
  });

  it('from a delta map where zeros are left out', () => {
    expect(retransFromDelta({ TcpRetransSegs: 7, TcpExtTCPFastRetrans: 7, TcpOutSegs: 70 })).toEqual({
      retransSegs: 7,
      spuriousSegs: 0,
      detail: { TcpOutSegs: 70, TcpExtTCPFastRetrans: 7 },
    });
    expect(retransFromDelta({})).toEqual({ retransSegs: 0, spuriousSegs: 0, detail: {} });
  });
});
