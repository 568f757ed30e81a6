import { describe, expect, it } from 'vitest';
import type { CapturedFrame } from '../../harness/agent/protocol.js';
import {
  buildTcpFrame,
  checkPartialSeed,
  completePartial,
  gsoSegment,
  parseFrame,
  partialOffsets,
  tcpOpt,
  verifyL4,
  TCP_ACK,
  TCP_CWR,
  TCP_FIN,
  TCP_PSH,
  TCP_SYN,
} from '../../harness/codec/index.js';
import { GSO_TCPV4, judgeSegments, type TcpFlowExpect } from '../../harness/checks/tso/judge.js';
import { connectionOutcome } from '../../harness/checks/tso/outcome.js';
import { noVlanSkip } from '../../harness/checks/tso/vlan.js';
import { NicmatrixError } from '../../harness/codec/errors.js';
import { decodeCapture, TP_STATUS_CSUMNOTREADY } from '../../harness/checks/wire.js';
import { createHash } from 'node:crypto';
import { checksum } from '../../harness/codec/checksum.js';
import { captured } from '../helpers/frames.js';

const flow = { family: 4 as const, src: '198.18.0.1', dst: '198.18.0.2', sport: 45000, dport: 40000 };
const ISN = 1000;
const cap = (data: Buffer, extra: Partial<CapturedFrame> = {}): CapturedFrame => captured(data, extra);

interface SegSpec {
  at: number;
  len: number;
  flags?: number;
  id?: number;
  ts?: number;
  checksum?: 'correct' | 'partial' | number;
  payload?: Buffer;
}

/** A connection: SYN with id0, then segments of `stream` as specified (ids count on from the SYN). */
function connection(stream: Buffer, segs: SegSpec[], opts: { ts?: boolean } = {}): { frames: Buffer[] } {
  let id = 100;
  const frames = [
    buildTcpFrame({ ...flow, seq: ISN, flags: TCP_SYN, window: 64240, ipv4: { id: id++, df: true }, options: tcpOpt.mss(1460) }),
  ];
  for (const s of segs) {
    const options = opts.ts ? Buffer.concat([tcpOpt.nop(), tcpOpt.nop(), tcpOpt.timestamps(s.ts ?? 5000, 7)]) : undefined;
    frames.push(
      buildTcpFrame({
        ...flow,
        seq: ISN + 1 + s.at,
        ack: 1,
        flags: s.flags ?? TCP_ACK,
        window: 500,
        ipv4: { id: s.id ?? id, df: true },
        options,
        payload: s.payload ?? stream.subarray(s.at, s.at + s.len),
        checksum: s.checksum ?? 'correct',
      }),
    );
    id = (s.id ?? id) + 1;
  }
  return { frames };
}

const expectFor = (stream: Buffer, writes: number[], more: Partial<TcpFlowExpect> = {}): TcpFlowExpect => ({
  family: 4,
  stream,
  writes,
  mss: 1460,
  mtu: 1500,
  timestamps: false,
  mangleId: false,
  ecn: false,
  reset: false,
  ...more,
});

const stream = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7 + 3) & 0xff));
/** One write of 3000 bytes in 1460 + 1460 + 80, PSH on the last, then a bare FIN. */
const sound: SegSpec[] = [
  { at: 0, len: 1460 },
  { at: 1460, len: 1460 },
  { at: 2920, len: 80, flags: TCP_ACK | TCP_PSH },
  { at: 3000, len: 0, flags: TCP_ACK | TCP_FIN },
];
const judge = (frames: Buffer[], x: TcpFlowExpect, extra: (i: number) => Partial<CapturedFrame> = () => ({})) =>
  judgeSegments(decodeCapture(frames.map((f, i) => cap(f, extra(i)))), x);
const reasons = (t: ReturnType<typeof judgeSegments>) => t.faults.map((f) => f.reason);

describe('gsoSegment (codec)', () => {
  it('cuts a partial super-frame into the segments GSO makes: lengths, seq, IDs, flags, seeds right', () => {
    const sf = buildTcpFrame({
      ...flow,
      seq: 5000,
      ack: 1,
      flags: TCP_ACK | TCP_PSH | TCP_CWR,
      ipv4: { id: 65534, df: true },
      payload: stream,
      checksum: 'partial',
    });
    const { segments, error } = gsoSegment(sf, 1448);
    expect(error).toBeUndefined();
    expect(segments.map((s) => parseFrame(s).payload!.length)).toEqual([1448, 1448, 104]);
    const parsed = segments.map((s) => parseFrame(s));
    expect(parsed.map((p) => p.l4!.tcp!.seq)).toEqual([5000, 6448, 7896]);
    expect(parsed.map((p) => (p.ip!.family === 4 ? p.ip!.id : -1))).toEqual([65534, 65535, 0]);
    expect(parsed.map((p) => p.l4!.tcp!.flags)).toEqual([TCP_ACK | TCP_CWR, TCP_ACK, TCP_ACK | TCP_PSH]);
    for (const s of segments) {
      const o = partialOffsets(s)!;
      expect(checkPartialSeed(s, o.csumStart, o.csumOffset).ok).toBe(true);
      expect(verifyL4(completePartial(s, o.csumStart, o.csumOffset)).state).toBe('good');
      expect(parseFrame(s).ip!.family === 4 && (parseFrame(s).ip as { headerChecksumOk: boolean }).headerChecksumOk).toBe(true);
    }
  });

  it('keeps a wrong seed wrong in every segment, and refuses what it cannot cut', () => {
    const sf = buildTcpFrame({ ...flow, seq: 1, payload: stream, checksum: 0x1234 });
    for (const s of gsoSegment(sf, 1000).segments) expect(checkPartialSeed(s, 34, 16).ok).toBe(false);
    expect(gsoSegment(sf, 0).error).toMatch(/gso_size/);
    expect(gsoSegment(sf.subarray(0, 100), 1000).error).toMatch(/IP header says/);
  });
});

describe('judgeSegments over crafted connections', () => {
  it('passes a sound connection: plain segments, PSH at the write end, FIN at the stream end, IDs +1', () => {
    const t = judge(connection(stream, sound).frames, expectFor(stream, [3000]));
    expect(t.faults).toEqual([]);
    expect(t).toMatchObject({ dataSegments: 3, completeChecksums: 5, lostFrames: 0, duplicates: 0 });
  });

  it('passes a super-frame judged as what it becomes, and fails one whose seed is wrong', () => {
    const sf = (checksum: 'partial' | number) =>
      buildTcpFrame({
        ...flow,
        seq: ISN + 1,
        ack: 1,
        flags: TCP_ACK | TCP_PSH,
        window: 500,
        ipv4: { id: 101, df: true },
        payload: stream,
        checksum,
      });
    const syn = connection(stream, []).frames[0]!;
    const fin = buildTcpFrame({ ...flow, seq: ISN + 1 + 3000, ack: 1, flags: TCP_ACK | TCP_FIN, window: 500, ipv4: { id: 104, df: true } });
    const gso = (i: number): Partial<CapturedFrame> =>
      i === 1 ? { status: TP_STATUS_CSUMNOTREADY, gsoType: GSO_TCPV4, gsoSize: 1460, csumStart: 34, csumOffset: 16 } : {};
    const good = judge([syn, sf('partial'), fin], expectFor(stream, [3000]), gso);
    expect(good.faults).toEqual([]);
    expect(good).toMatchObject({ superFrames: 1, superSegments: 3, dataSegments: 3 });
    const bad = judge([syn, sf(0x1234), fin], expectFor(stream, [3000]), gso);
    expect(reasons(bad)).toEqual([
      expect.stringMatching(/super-frame of 3054 bytes \(3 segments of 1460\) carries a wrong checksum seed, so all 3 segments would/),
    ]);
    // A super-frame cut above the MSS.
    expect(reasons(judge([syn, sf('partial'), fin], expectFor(stream, [3000], { mss: 1400 }), gso))).toEqual([
      expect.stringMatching(/segment of 1460 data \+ 0 option bytes exceeds the MSS 1400 \(segment 1 of 3 of a super-frame\)/),
      expect.stringMatching(/segment 2 of 3/),
    ]);
  });

  it('fails a segment with a wrong checksum', () => {
    const segs = sound.map((s, i) => (i === 1 ? { ...s, checksum: 0xbeef } : s));
    expect(reasons(judge(connection(stream, segs).frames, expectFor(stream, [3000])))).toEqual([
      expect.stringMatching(/TCP checksum 0xbeef is wrong/),
    ]);
  });

  it('fails a hole, naming the write it belongs to', () => {
    const segs = sound.filter((_, i) => i !== 1);
    const t = judge(connection(stream, segs).frames, expectFor(stream, [1000, 2000]));
    expect(reasons(t)).toContainEqual(
      expect.stringMatching(/stream bytes 1460–2919 \(bytes 460–1919 of write 2 of 2\) never appeared on the wire/),
    );
    // The frame left out used an IPv4 ID: it counts as lost, not as a wrong ID.
    expect(t.lostFrames).toBe(0);
  });

  it('counts frames lost between the DUT and the wire by the IPv4 IDs they used', () => {
    const segs: SegSpec[] = [{ ...sound[0]! }, { ...sound[1]!, id: 104 }, { ...sound[2]! }, { ...sound[3]! }];
    const t = judge(connection(stream, segs).frames, expectFor(stream, [3000]));
    expect(t.lostFrames).toBe(2);
    expect(
      connectionOutcome({
        what: 'x',
        expect: expectFor(stream, [3000]),
        tally: t,
        received: rcv(stream),
        retransmitted: 0,
        captureDropped: 0,
      }).message,
    ).toMatch(/2 frame\(s\) the DUT sent never reached the peer/);
  });

  it('fails an overlap that carries other bytes, and counts an identical one as a retransmission', () => {
    const wrong = [...sound.slice(0, 2), { at: 1400, len: 100, payload: stream.subarray(0, 100) }, ...sound.slice(2)];
    expect(reasons(judge(connection(stream, wrong).frames, expectFor(stream, [3000])))).toEqual([
      expect.stringMatching(/stream byte 1400 is 0x03 on the wire, 0x.. was written/),
    ]);
    const again = [...sound.slice(0, 2), { at: 1460, len: 1460 }, ...sound.slice(2)];
    const t = judge(connection(stream, again).frames, expectFor(stream, [3000]));
    expect(t.faults).toEqual([]);
    expect(t.duplicates).toBe(1);
    // A copy the DUT never retransmitted: the device sent it twice.
    expect(
      connectionOutcome({
        what: 'x',
        expect: expectFor(stream, [3000]),
        tally: t,
        received: rcv(stream),
        retransmitted: 0,
        captureDropped: 0,
      }).status,
    ).toBe('fail');
  });

  it('fails a misplaced FIN and a missing PSH at a write end', () => {
    const fin = sound.map((s, i) => (i === 1 ? { ...s, flags: TCP_ACK | TCP_FIN } : s));
    expect(reasons(judge(connection(stream, fin).frames, expectFor(stream, [3000])))).toContainEqual(
      expect.stringMatching(/FIN on a segment ending at stream byte 2920, the stream ends at 3000/),
    );
    const noPsh = sound.map((s, i) => (i === 2 ? { ...s, flags: TCP_ACK } : s));
    expect(reasons(judge(connection(stream, noPsh).frames, expectFor(stream, [3000])))).toEqual([
      expect.stringMatching(/segment ending write 1 \(stream byte 3000\) carries no PSH/),
    ]);
    // Two writes: the first must end a segment.
    expect(reasons(judge(connection(stream, sound).frames, expectFor(stream, [1000, 2000])))).toEqual([
      expect.stringMatching(/no segment ends at the end of write 1/),
    ]);
  });

  it('fails PSH copied onto every segment of a write, and allows a forced push mid-write', () => {
    const long = Buffer.from(Array.from({ length: 6000 }, (_, i) => (i * 11) & 0xff));
    const segs = (psh: (i: number) => boolean): SegSpec[] => [
      ...Array.from({ length: 5 }, (_, i) => ({ at: i * 1000, len: 1000, flags: TCP_ACK | (psh(i) ? TCP_PSH : 0) })),
      { at: 5000, len: 1000, flags: TCP_ACK | TCP_PSH },
      { at: 6000, len: 0, flags: TCP_ACK | TCP_FIN },
    ];
    const x = expectFor(long, [6000], { mss: 1000 });
    expect(
      judge(
        connection(
          long,
          segs((i) => i === 2),
        ).frames,
        x,
      ).faults,
    ).toEqual([]);
    const allPushed = connection(
      long,
      segs(() => true),
    ).frames;
    // Each send() call that took part of the write ends in a push of its own: not a device fault.
    expect(judge(allPushed, { ...x, shortSends: [1000, 2000, 3000, 4000, 5000] }).faults).toEqual([]);
    expect(reasons(judge(allPushed, x))).toEqual([
      expect.stringMatching(/PSH on 5 neighbouring segments inside writes \(first ending at stream byte 2000, write 1 of 1\)/),
    ]);
  });

  it('fails a stream cut into IPv4 fragments instead of TCP segments', () => {
    const frames = connection(stream, sound).frames;
    const first = Buffer.from(frames[1]!);
    first.writeUInt16BE(0x6000, 14 + 6); // DF off, MF on
    first.writeUInt16BE(0, 14 + 10);
    first.writeUInt16BE(checksum(first, 14, 34), 14 + 10);
    const t = judge([frames[0]!, first, ...frames.slice(2)], expectFor(stream, [3000]));
    expect(t.fragments).toBe(1);
    expect(reasons(t)[0]).toMatch(/IPv4 fragment \(offset 0, more fragments, 1500 bytes\): the TCP stream was cut into IP fragments/);
  });

  it('fails a wrong IPv4 ID, and allows a fixed one only with mangleid', () => {
    const back = sound.map((s, i) => (i === 2 ? { ...s, id: 50 } : s));
    expect(reasons(judge(connection(stream, back).frames, expectFor(stream, [3000])))).toEqual([
      expect.stringMatching(/IPv4 ID 50 where 103 was due/),
    ]);
    const fixed: SegSpec[] = [{ ...sound[0]! }, { ...sound[1]!, id: 101 }, { ...sound[2]!, id: 103 }, { ...sound[3]! }];
    expect(reasons(judge(connection(stream, fixed).frames, expectFor(stream, [3000])))).toEqual([
      expect.stringMatching(/IPv4 ID 101 where 102 was due/),
    ]);
    const t = judge(connection(stream, fixed).frames, expectFor(stream, [3000], { mangleId: true }));
    expect(t.faults).toEqual([]);
    expect(t.fixedIds).toBe(1);
  });

  it('passes frames a link reordered (veth queues per CPU): IPv4 IDs are judged in the order the stack gave them', () => {
    const frames = connection(stream, sound).frames;
    const reordered = [frames[0]!, frames[2]!, frames[1]!, ...frames.slice(3)];
    const t = judge(reordered, expectFor(stream, [3000]));
    expect(reasons(t)).toEqual([]);
    expect(t.lostFrames).toBe(0);
    // A frame that never arrived is still a skipped ID.
    expect(judge([frames[0]!, ...frames.slice(2)], expectFor(stream, [3000])).lostFrames).toBe(1);
  });

  it('fails a header-only segment with PSH after a super-frame of whole MSS (QEMU e1000 pattern), naming the ID it took', () => {
    // Write 1 (2920 bytes = 2 × 1460) cut into two segments and then an empty one the stack never counted: the
    // next write's first segment reuses its ID, since the stack reserved only two.
    const extra: SegSpec[] = [
      { at: 0, len: 1460, id: 101 },
      { at: 1460, len: 1460, id: 102, flags: TCP_ACK | TCP_PSH },
      { at: 2920, len: 0, id: 103, flags: TCP_ACK | TCP_PSH },
      { at: 2920, len: 80, id: 103, flags: TCP_ACK | TCP_PSH },
      { at: 3000, len: 0, id: 104, flags: TCP_ACK | TCP_FIN },
    ];
    expect(reasons(judge(connection(stream, extra).frames, expectFor(stream, [2920, 80])))).toEqual([
      'PSH on a header-only segment (no data, seq 2920 of the stream)',
      "IPv4 ID 103 where 104 was due (one more than the previous segment's); tx-tcp-mangleid-segmentation is off; the header-only segment before it carried the same ID",
    ]);
  });

  it('fails a segment above the MSS, a lost timestamp option and a CWR without ECN', () => {
    expect(reasons(judge(connection(stream, sound).frames, expectFor(stream, [3000], { mss: 1400 })))).toEqual([
      expect.stringMatching(/segment of 1460 data \+ 0 option bytes exceeds the MSS 1400/),
      expect.stringMatching(/segment of 1460 data/),
    ]);
    const ts = connection(stream, sound, { ts: true }).frames;
    expect(judge(ts, expectFor(stream, [3000], { timestamps: true, mtu: 1600, mss: 1500 })).faults).toEqual([]);
    const dropped = [...ts.slice(0, 2), connection(stream, sound).frames[2]!, ...ts.slice(3)];
    expect(reasons(judge(dropped, expectFor(stream, [3000], { timestamps: true, mtu: 1600, mss: 1500 })))).toEqual([
      expect.stringMatching(/timestamp option missing/),
      expect.stringMatching(/TCP options \[\] differ/),
    ]);
    const cwr = sound.map((s, i) => (i === 1 ? { ...s, flags: TCP_ACK | TCP_CWR } : s));
    expect(reasons(judge(connection(stream, cwr).frames, expectFor(stream, [3000])))).toEqual([
      expect.stringMatching(/CWR set, ECN was not negotiated/),
    ]);
  });

  it('fails wrong lengths: IPv4 total length past the frame, bytes after the packet, a frame above the MTU', () => {
    const frames = connection(stream, sound).frames;
    const short = Buffer.from(frames[1]!.subarray(0, 1000));
    const longer = Buffer.concat([frames[2]!, Buffer.alloc(6)]);
    const t = judge([frames[0]!, short, longer, ...frames.slice(3)], expectFor(stream, [3000], { mtu: 1400 }));
    expect(reasons(t)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/IPv4 total length 1500 runs past the frame/),
        expect.stringMatching(/IPv4 total length 1500 leaves 6 bytes of the 1520-byte frame unaccounted for/),
      ]),
    );
    expect(reasons(judge(frames, expectFor(stream, [3000], { mtu: 1400 })))).toContainEqual(
      expect.stringMatching(/IP packet of 1500 bytes exceeds the DUT's MTU 1400/),
    );
  });
});

function rcv(s: Buffer) {
  return { bytes: s.length, sha256: createHash('sha256').update(s).digest('hex') };
}

describe('connectionOutcome', () => {
  it('passes a sound connection and fails a short read, a stall and too many retransmissions', () => {
    const x = expectFor(stream, [3000]);
    const t = judge(connection(stream, sound).frames, x);
    const base = { what: 'IPv4', expect: x, tally: t, received: rcv(stream), retransmitted: 0, captureDropped: 0 };
    expect(connectionOutcome(base).status).toBe('pass');
    expect(connectionOutcome({ ...base, received: rcv(stream.subarray(1)) }).message).toMatch(/received 2999 of the 3000 bytes/);
    expect(connectionOutcome({ ...base, stalled: { write: 0, unacked: 80, waitedMs: 5000 } }).message).toMatch(/stalled: write 1 of 1/);
    expect(connectionOutcome({ ...base, retransmitted: 9 }).status).toBe('pass');
    expect(connectionOutcome({ ...base, retransmitted: 10 }).message).toMatch(
      /TCP retransmitted 10 segment\(s\) over 3000 bytes: expected fewer than 10/,
    );
    expect(connectionOutcome({ ...base, captureDropped: 3 }).status).toBe('error');
  });
});

describe('tso/vlan without 802.1Q', () => {
  const refused = new NicmatrixError(
    'SYSCALL',
    'peer agent: vlan.add: RTM_NEWLINK (vlan nmvp9) on rtnetlink: EOPNOTSUPP: Unknown device type',
  );

  it('skips naming the side whose kernel lacks it (the peer is often the host), never an error', () => {
    for (const side of ['DUT', 'peer'] as const) {
      const o = noVlanSkip(side, refused);
      expect(o.status).toBe('skip');
      expect(o.message).toContain(`the ${side}'s kernel has no 802.1Q support`);
      expect(o.evidence).toEqual({ noVlanSupport: side });
    }
  });

  it('rethrows any other failure', () => {
    const other = new NicmatrixError('SYSCALL', 'vlan.add: RTM_NEWLINK: EEXIST (File exists)');
    expect(() => noVlanSkip('peer', other)).toThrow(other);
  });
});
