import { describe, expect, it } from 'vitest';
import type { CapturedFrame } from '../../harness/agent/protocol.js';
import { WIRE_CASE, smallCases } from '../../harness/checks/zc/cases.js';
import { fillExpected, type StreamSpec } from '../../harness/codec/zc/pattern.js';
import { describeTaps, parsePacketSockets, tapsOf } from '../../harness/checks/zc/taps.js';
import { judgeStreamFrames } from '../../harness/checks/zc/wire-judge.js';
import { fullSegmentLengths, plannedMss } from '../../harness/checks/zc/zerocopy-plan.js';
import { decodeCapture, TP_STATUS_CSUMNOTREADY } from '../../harness/checks/wire.js';
import { buildTcpFrame } from '../../harness/codec/index.js';
import { decodeTcpInfo } from '../../harness/sys/tcp.js';

const SRC = '192.0.2.1';
const DST = '192.0.2.2';
const DPORT = 30000;
const ISN = 1000;
const spec: StreamSpec = { file: { seed: 7, size: 5000 }, offset: 0, count: 5000 };

function stream(): Buffer {
  const b = Buffer.alloc(5000);
  fillExpected(b, spec, 0);
  return b;
}

/** A SYN, then the stream in `mss`-byte segments, as the peer would capture them. */
function frames(mss = 1400, edit?: (frame: Buffer, i: number) => Buffer): CapturedFrame[] {
  const data = stream();
  const out: Buffer[] = [buildTcpFrame({ family: 4, src: SRC, dst: DST, sport: 40000, dport: DPORT, seq: ISN, flags: 'S' })];
  for (let off = 0; off < data.length; off += mss)
    out.push(
      buildTcpFrame({
        family: 4,
        src: SRC,
        dst: DST,
        sport: 40000,
        dport: DPORT,
        seq: ISN + 1 + off,
        flags: 'A',
        payload: data.subarray(off, off + mss),
      }),
    );
  return out.map((f, i) => {
    const b = edit ? edit(f, i) : f;
    return { data: b.toString('base64'), len: b.length, status: 0, pkttype: 0, tsNs: 0 } as CapturedFrame;
  });
}

const judge = (f: CapturedFrame[]) => judgeStreamFrames(decodeCapture(f), { src: SRC, dst: DST, dport: DPORT }, spec);

describe('judgeStreamFrames', () => {
  it('a sound stream: every frame placed, no fault', () => {
    expect(judge(frames())).toMatchObject({ frames: 5, dataFrames: 4, payloadBytes: 5000, faults: [], cutByCapture: 0 });
  });

  it('a payload byte rewritten with the checksum fixed (what the byte oracle alone saw as a stream offset) names frame and offsets', () => {
    const f = frames(1400, (b, i) => {
      if (i !== 2) return b;
      const c = Buffer.from(b);
      c[54 + 10]! ^= 0x5a;
      // Keep the TCP checksum valid, as nft's payload mangling does.
      return buildTcpFrame({
        family: 4,
        src: SRC,
        dst: DST,
        sport: 40000,
        dport: DPORT,
        seq: ISN + 1 + 1400,
        flags: 'A',
        payload: c.subarray(54),
      });
    });
    const r = judge(f);
    expect(r.altered).toMatchObject({ bytes: 1, frames: 1, first: { frame: 2, streamOffset: 1410, frameOffset: 64 } });
    expect(r.faults).toEqual([
      expect.stringMatching(
        /^1 captured frame\(s\) carry 1 payload byte\(s\) the DUT was not given, first in frame #2 at stream offset 1410 \(frame offset 64\)/,
      ),
    ]);
  });

  it('a wrong IPv4 header checksum and a wrong TCP checksum each have their own message', () => {
    const r = judge(
      frames(1400, (b, i) => {
        const c = Buffer.from(b);
        if (i === 1) c.writeUInt16BE(c.readUInt16BE(24) ^ 0x0101, 24);
        if (i === 3) c.writeUInt16BE(c.readUInt16BE(14 + 20 + 16) ^ 0x0101, 14 + 20 + 16);
        return c;
      }),
    );
    expect(r.faults).toEqual([
      expect.stringMatching(/^1 of 5 captured frame\(s\) carry a wrong IPv4 header checksum: #1: 0x/),
      expect.stringMatching(/^1 of 5 captured frame\(s\) carry a wrong TCP checksum: #3: 0x[0-9a-f]{4}, expected 0x/),
    ]);
  });

  it('a truncated frame and one longer than its IP packet are faults of their own, padding of a short frame is not', () => {
    const r = judge(
      frames(1400, (b, i) => {
        if (i === 1) return b.subarray(0, b.length - 100);
        if (i === 2) return Buffer.concat([b, Buffer.alloc(6)]);
        return b;
      }),
    );
    expect(r.faults).toEqual([
      '1 of 5 captured frame(s) are truncated (shorter than their IP header says): #1: 1440 bytes of IP packet declared, 1340 on the wire',
      '1 of 5 captured frame(s) are longer than their IP packet (wrong length field): #2: 1446 bytes of IP packet on the wire, 1440 declared',
    ]);
    // A SYN padded to the Ethernet minimum is sound.
    expect(judge(frames(1400, (b, i) => (i === 0 ? Buffer.concat([b, Buffer.alloc(60 - b.length)]) : b))).faults).toEqual([]);
  });

  it('a frame the capture cut short (snap length) is not called truncated', () => {
    const f = frames();
    const data = Buffer.from(f[1]!.data, 'base64');
    f[1] = { ...f[1]!, data: data.subarray(0, 200).toString('base64'), len: data.length };
    expect(judge(f)).toMatchObject({ faults: [], cutByCapture: 1 });
  });

  it('CHECKSUM_PARTIAL frames are judged on their seed', () => {
    const f = frames(1400).map((c, i) =>
      i === 0
        ? c
        : (() => {
            const b = Buffer.from(c.data, 'base64');
            // Put the pseudo-header seed where the full checksum was: what veth delivers.
            const p = buildTcpFrame({
              family: 4,
              src: SRC,
              dst: DST,
              sport: 40000,
              dport: DPORT,
              seq: b.readUInt32BE(38),
              flags: 'A',
              payload: b.subarray(54),
              checksum: 'partial',
            });
            return { ...c, data: p.toString('base64'), status: TP_STATUS_CSUMNOTREADY };
          })(),
    );
    expect(judge(f).faults).toEqual([]);
  });

  it('without the SYN the payload is not placed, and says so', () => {
    const r = judge(frames().slice(1));
    expect(r.unplaced).toMatch(/no SYN/);
    expect(r.faults).toEqual([]);
  });
});

describe('taps on the DUT', () => {
  const text = [
    'sk               RefCnt Type Proto  Iface R Rmem   User   Inode',
    'ffff000000000001 3      3    0003   2     1 0      0      111',
    'ffff000000000002 3      3    0003   0     1 0      0      222',
    'ffff000000000003 3      3    0800   2     1 0      0      333',
    'ffff000000000004 3      3    0003   5     1 0      0      444',
    'ffff000000000005 3      3    0003   2     0 0      0      555',
  ].join('\n');
  it('ETH_P_ALL sockets running on the interface or on all interfaces', () => {
    const taps = tapsOf(parsePacketSockets(text), 2);
    expect(taps.map((t) => t.inode)).toEqual([111, 222]);
    expect(describeTaps(taps)).toBe('2 packet socket(s) (ETH_P_ALL, inode 111, 222) tap every interface, the DUT included');
    expect(describeTaps(tapsOf(parsePacketSockets(text), 9))).toBe(
      '1 packet socket(s) (ETH_P_ALL, inode 222) tap every interface, the DUT included',
    );
    expect(describeTaps([])).toBeUndefined();
    expect(parsePacketSockets('sk RefCnt\n')).toEqual([]);
  });
});

describe('plans and TCP_INFO', () => {
  it('full-segment sends: every length a multiple of the MSS, about the total, at most 64 KiB', () => {
    expect(plannedMss(1500, 4)).toBe(1448);
    expect(plannedMss(1500, 6)).toBe(1428);
    const l = fullSegmentLengths(1448, 1 << 20);
    expect(l.every((x) => x === 45 * 1448)).toBe(true);
    expect(l.length).toBe(16);
    expect(fullSegmentLengths(65484, 1 << 20).every((x) => x === 65484)).toBe(true);
  });

  it('the captured sendfile case is one of the plan', () => {
    expect(smallCases().map((c) => c.name)).toContain(WIRE_CASE);
  });

  it('decodes total_retrans, snd_mss, bytes_acked, segs_out, data_segs_in/out and dsack_dups at their offsets', () => {
    const b = Buffer.alloc(232);
    b.writeUInt32LE(1448, 16);
    b.writeUInt32LE(12, 100);
    b.writeBigUInt64LE(5000n, 120);
    b.writeUInt32LE(77, 136);
    b.writeUInt32LE(40, 152);
    b.writeUInt32LE(70, 156);
    b.writeUInt32LE(9, 216);
    expect(decodeTcpInfo(b)).toEqual({
      totalRetrans: 12,
      sndMss: 1448,
      bytesAcked: 5000,
      segsOut: 77,
      dataSegsIn: 40,
      dataSegsOut: 70,
      dsackDups: 9,
    });
    expect(decodeTcpInfo(b.subarray(0, 104))).toEqual({ totalRetrans: 12, sndMss: 1448 });
  });
});
