import { describe, expect, it } from 'vitest';
import type { CapturedFrame } from '../../harness/agent/protocol.js';
import { buildTcpFrame } from '../../harness/codec/index.js';
import { judgeTcpCopies, withTcpCopies } from '../../harness/checks/wire-copies.js';
import { decodeCapture } from '../../harness/checks/wire.js';
import { captured } from '../helpers/frames.js';

const ends = { dutAddrs: ['198.18.0.1', '2001:db8::1'], peerAddrs: ['198.18.0.2', '2001:db8::2'], mtu: 1500 };
const seg = (flags: string, bytes: number, sport = 30000, tsNs = 0): CapturedFrame => ({
  ...captured(
    buildTcpFrame({ family: 4, src: '198.18.0.1', dst: '198.18.0.2', sport, dport: 20000, flags, payload: Buffer.alloc(bytes, 7) }),
  ),
  tsNs,
});
/** A connection begun in the variant: SYN, two data segments, FIN. */
const conn = (t: number) => [
  seg('S', 0, 30000, t),
  seg('A', 1000, 30000, t + 1),
  seg('PA', 1000, 30000, t + 2),
  seg('FA', 0, 30000, t + 3),
];

/** The captures as the runner hands them over: decoded once. */
const wire = (...captures: CapturedFrame[][]) => captures.map((c) => decodeCapture(c));

describe('judgeTcpCopies', () => {
  it('counts the DUT segments of connections begun in the variant against TcpOutSegs + TcpRetransSegs', () => {
    expect(judgeTcpCopies(wire(conn(10)), ends, { TcpOutSegs: 3, TcpRetransSegs: 1 })).toEqual({ onWire: 4, sent: 4, copies: 0 });
    const copy = { ...conn(10)[1]!, tsNs: 99 };
    expect(judgeTcpCopies(wire([...conn(10), copy]), ends, { TcpOutSegs: 4 })).toEqual({ onWire: 5, sent: 4, copies: 1 });
  });

  it('counts a frame two overlapping captures both saw once, a super-frame as the segments it holds, and no earlier connection', () => {
    const late = seg('A', 1000, 31000, 5);
    const jumbo = seg('A', 14_600, 30000, 20);
    expect(judgeTcpCopies(wire(conn(10), [...conn(10), jumbo, late]), ends, { TcpOutSegs: 14 })).toEqual({
      onWire: 14,
      sent: 14,
      copies: 0,
    });
  });

  it('says nothing without the DUT counters', () => {
    expect(judgeTcpCopies(wire(conn(10)), ends, undefined)).toBeUndefined();
    expect(judgeTcpCopies(wire(conn(10)), ends, {})).toBeUndefined();
  });

  it('fails a pass with the counts, keeping what the check said', () => {
    const o = withTcpCopies({ status: 'pass', message: 'all right', evidence: {} }, { onWire: 113, sent: 104, copies: 9 });
    expect(o).toMatchObject({
      status: 'fail',
      message:
        'the wire carried 113 TCP segment(s) from the DUT, its stack sent 104 (TcpOutSegs + TcpRetransSegs): the device sent 9 it was not given (copies, or frames of its own); the check itself: pass: all right',
      evidence: { tcpCopies: { copies: 9 } },
    });
  });
});
