import { describe, expect, it } from 'vitest';
import { buildTcpFrame, buildUdpFrame, DEFAULT_DST_MAC, DEFAULT_SRC_MAC } from '../../harness/codec/index.js';
import { judgeCaptures, judgeHeaders, withHeaderFaults, type HeaderIntent } from '../../harness/checks/header-intent.js';
import { decodeCapture } from '../../harness/checks/wire.js';
import { captured } from '../helpers/frames.js';

const intent: HeaderIntent = {
  dutMac: DEFAULT_SRC_MAC,
  peerMac: DEFAULT_DST_MAC,
  dutAddrs: ['198.18.0.1', '2001:db8::1'],
  peerAddrs: ['198.18.0.2', '2001:0db8:0::2'],
  ttl: 64,
  hopLimit: 64,
};
const v4 = { family: 4 as const, src: '198.18.0.1', dst: '198.18.0.2', sport: 30000, dport: 20000, payload: Buffer.alloc(40, 1) };
const v6 = { ...v4, family: 6 as const, src: '2001:db8::1', dst: '2001:db8::2' };
const judge = (...frames: Buffer[]) => judgeHeaders(decodeCapture(frames.map((f) => captured(f))), intent);

describe('judgeHeaders', () => {
  it('accepts what a stack with these defaults writes, IPv4 and IPv6, UDP and TCP, with ECT marks', () => {
    const j = judge(
      buildUdpFrame(v4),
      buildTcpFrame({ ...v4, ipv4: { tos: 0x02 } }),
      buildUdpFrame(v6),
      buildTcpFrame({ ...v6, ipv6: { trafficClass: 0x01 } }),
    );
    expect(j).toEqual({ checked: 4, faults: [] });
  });

  it('names a rewritten TTL, hop limit, DSCP, CE mark and MAC, with what the stack wrote', () => {
    const j = judge(
      buildUdpFrame({ ...v4, ipv4: { ttl: 7 } }),
      buildUdpFrame({ ...v6, ipv6: { hopLimit: 255 } }),
      buildTcpFrame({ ...v4, ipv4: { tos: 0x60 } }),
      buildUdpFrame({ ...v6, ipv6: { trafficClass: 0x03 } }),
      buildUdpFrame({ ...v4, srcMac: '02:11:22:33:44:55', dstMac: 'ff:ff:ff:ff:ff:ff' }),
    );
    expect(j.checked).toBe(5);
    expect(j.faults.map((f) => f.reason)).toEqual([
      'IPv4 TTL 7 where the stack wrote 64 (net.ipv4.ip_default_ttl)',
      "IPv6 hop limit 255 where the stack wrote 64 (the interface's hop_limit)",
      'IPv4 TOS 0x60: DSCP 24 where the stack wrote 0',
      'IPv6 traffic class 0x03: ECN CE (congestion experienced), which no sender writes',
      "Ethernet source 02:11:22:33:44:55 where the DUT's address 02:00:00:00:00:01 was written; Ethernet destination ff:ff:ff:ff:ff:ff where the peer's address 02:00:00:00:00:02 was written",
    ]);
  });

  it("judges only the DUT's own socket traffic to the peer: not the peer's, other addresses' or ICMP", () => {
    const bad = { ttl: 1 };
    const j = judge(
      buildUdpFrame({ ...v4, src: '198.18.0.2', dst: '198.18.0.1', ipv4: bad }),
      buildUdpFrame({ ...v4, src: '198.18.9.1', ipv4: bad }),
    );
    expect(j).toEqual({ checked: 0, faults: [] });
  });

  it('leaves a default it could not read unjudged', () => {
    const j = judgeHeaders(decodeCapture([captured(buildUdpFrame({ ...v4, ipv4: { ttl: 7 } }))]), { ...intent, ttl: undefined });
    expect(j).toEqual({ checked: 1, faults: [] });
  });
});

describe('withHeaderFaults', () => {
  const faulty = judgeCaptures([[], decodeCapture([captured(buildUdpFrame({ ...v4, ipv4: { ttl: 7 } }))])], intent);

  it('names the capture and frame of the first fault', () => {
    expect(faulty.faults).toEqual([{ capture: 2, index: 0, reason: expect.stringMatching(/^IPv4 TTL 7/) }]);
  });

  it('turns a pass (or skip, unsupported, error) into a fail that says what the check found, and adds to a fail', () => {
    const pass = withHeaderFaults({ status: 'pass', message: 'all right', evidence: {} }, faulty, intent);
    expect(pass.status).toBe('fail');
    expect(pass.message).toBe(
      '1 of 1 frame(s) the DUT sent arrived with headers its stack did not write (first: capture 2, frame #0: IPv4 TTL 7 where the stack wrote 64 (net.ipv4.ip_default_ttl)); the check itself: pass: all right',
    );
    expect(pass.evidence.headerFaults).toMatchObject({ checked: 1, count: 1, intent });
    for (const status of ['skip', 'unsupported', 'error'] as const)
      expect(withHeaderFaults({ status, message: 'm', evidence: {} }, faulty, intent).status).toBe('fail');
    const fail = withHeaderFaults({ status: 'fail', message: '3 lost', evidence: {} }, faulty, intent);
    expect(fail.message).toMatch(/^3 lost; 1 of 1 frame/);
  });

  it('leaves an outcome alone when the headers were right', () => {
    const o = { status: 'pass' as const, message: 'ok', evidence: {} };
    expect(withHeaderFaults(o, judgeCaptures([decodeCapture([captured(buildUdpFrame(v4))])], intent), intent)).toBe(o);
  });
});
