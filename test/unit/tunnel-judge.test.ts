/** The tunnel transmit judge over crafted frames: each level's fault is named, sound frames pass. */
import { describe, expect, it } from 'vitest';
import {
  buildGreFrame,
  buildUdpFrame,
  buildVxlanFrame,
  ETH_P_IPV4,
  ipPacketOf,
  parseEncap,
  partialOffsets,
  type IpFamily,
} from '../../harness/codec/index.js';
import { judgeTunnelFrame, matchPayloads } from '../../harness/checks/tunnel-csum/judge.js';
import { innerValidBad, type TunnelPlanned } from '../../harness/checks/tunnel-csum/rx.js';
import type { WireFrame } from '../../harness/checks/wire.js';
import { ipPacketKey } from '../../harness/checks/rx-csum/plan.js';
import { decodeCapture } from '../../harness/checks/wire.js';

const OUTER = { family: 4 as IpFamily, src: '192.0.2.1', dst: '192.0.2.2', sport: 50000 };
const vx = { kind: 'vxlan' as const, outerCsum: true, greCsum: false, vni: 7 };

function inner(checksum: 'correct' | 'partial' | number = 'correct'): Buffer {
  return buildUdpFrame({
    family: 4,
    src: '203.0.113.1',
    dst: '203.0.113.2',
    sport: 1000,
    dport: 2000,
    payload: Buffer.from('payload!'),
    checksum,
  });
}

function wire(data: Buffer, partial?: { csumStart: number; csumOffset: number }): WireFrame {
  const f = decodeCapture([
    { data: data.toString('base64'), len: data.length, status: partial ? 8 : 0, pkttype: 0, vlanTci: 0, vlanTpid: 0, tsNs: 0 },
  ])[0]!;
  return partial ? { ...f, ...partial } : f;
}

describe('judgeTunnelFrame', () => {
  it('a sound VXLAN frame passes; its inner checksum overwritten fails on the inner level', () => {
    expect(judgeTunnelFrame(wire(buildVxlanFrame({ ...OUTER, vni: 7, inner: inner() })), vx).fault).toBeUndefined();
    // The outer checksum is right over the altered inner: only the inner is wrong.
    const f = buildVxlanFrame({ ...OUTER, vni: 7, inner: inner(0xbeef) });
    expect(judgeTunnelFrame(wire(f), vx).fault).toMatch(/^inner ipv4-udp checksum 0xbeef is wrong/);
  });

  it('outer checksum: 0 where it must be set, the seed left on the wire, a value where it must be 0', () => {
    expect(judgeTunnelFrame(wire(buildVxlanFrame({ ...OUTER, vni: 7, inner: inner(), checksum: 'zero' })), vx).fault).toMatch(
      /outer UDP checksum is 0/,
    );
    const seeded = buildVxlanFrame({ ...OUTER, vni: 7, inner: inner(), checksum: 'partial' });
    expect(judgeTunnelFrame(wire(seeded), vx).fault).toMatch(/pseudo-header seed, nobody completed it/);
    expect(judgeTunnelFrame(wire(buildVxlanFrame({ ...OUTER, vni: 7, inner: inner() })), { ...vx, outerCsum: false }).fault).toMatch(
      /must be 0/,
    );
  });

  it('a partial inner: the seed is checked, and the outer must be right once the inner is completed', () => {
    const inr = inner('partial');
    const ok = buildVxlanFrame({ ...OUTER, vni: 7, inner: inner() });
    // What local checksum offload sends: the inner seed, and the outer checksum of the completed frame.
    const frame = Buffer.from(ok);
    const enc = parseEncap(frame).encap!;
    const offs = partialOffsets(inr)!;
    const start = enc.innerOffset + offs.csumStart;
    frame.writeUInt16BE(inr.readUInt16BE(offs.csumStart + offs.csumOffset), start + offs.csumOffset);
    expect(judgeTunnelFrame(wire(frame, { csumStart: start, csumOffset: offs.csumOffset }), vx)).toMatchObject({ partial: 'inner' });
    const badSeed = Buffer.from(frame);
    badSeed.writeUInt16BE(0x1111, start + offs.csumOffset);
    expect(judgeTunnelFrame(wire(badSeed, { csumStart: start, csumOffset: offs.csumOffset }), vx).fault).toMatch(
      /inner checksum delivered partial with a wrong seed/,
    );
    // The outer checksum computed over the seed, not over the completed inner: wrong once completed.
    const lco = buildVxlanFrame({ ...OUTER, vni: 7, inner: inr });
    expect(judgeTunnelFrame(wire(lco, { csumStart: start, csumOffset: offs.csumOffset }), vx).fault).toMatch(
      /outer UDP checksum .* is wrong/,
    );
  });

  it('outer IP length and header checksum, VNI', () => {
    const f = buildVxlanFrame({ ...OUTER, vni: 7, inner: inner(), padTo: 200 });
    expect(judgeTunnelFrame(wire(f), vx).fault).toMatch(/outer IP length says/);
    const g = buildVxlanFrame({ ...OUTER, vni: 7, inner: inner(), ipv4: { headerChecksum: 0x1234 } });
    expect(judgeTunnelFrame(wire(g), vx).fault).toMatch(/outer IPv4 header checksum 0x1234/);
    expect(judgeTunnelFrame(wire(buildVxlanFrame({ ...OUTER, vni: 8, inner: inner() })), vx).fault).toMatch(/VNI 8/);
  });

  it('GRE: the checksum option must be there and right, or absent', () => {
    const gre = { kind: 'gre' as const, outerCsum: false, greCsum: true };
    const ip = ipPacketOf(inner());
    expect(
      judgeTunnelFrame(wire(buildGreFrame({ ...OUTER, gre: { protocol: ETH_P_IPV4, checksum: 'correct' }, inner: ip })), gre).fault,
    ).toBeUndefined();
    expect(
      judgeTunnelFrame(wire(buildGreFrame({ ...OUTER, gre: { protocol: ETH_P_IPV4, checksum: 0x4242 }, inner: ip })), gre).fault,
    ).toMatch(/GRE checksum 0x4242 is wrong/);
    expect(judgeTunnelFrame(wire(buildGreFrame({ ...OUTER, gre: { protocol: ETH_P_IPV4 }, inner: ip })), gre).fault).toMatch(
      /option is missing/,
    );
    expect(
      judgeTunnelFrame(wire(buildGreFrame({ ...OUTER, gre: { protocol: ETH_P_IPV4, checksum: 'correct' }, inner: ip })), {
        ...gre,
        greCsum: false,
      }).fault,
    ).toMatch(/appeared/);
  });

  it('payload accounting counts missing and unexpected datagrams', () => {
    const a = Buffer.from('a');
    const b = Buffer.from('b');
    expect(matchPayloads([a, b, b], [b, a, a])).toEqual({ missing: 1, unexpected: 1 });
  });
});

describe('innerValidBad', () => {
  const planned = [{ index: 0, innerKey: '', innerOk: false } as TunnelPlanned];
  const innerFrame = (valid: boolean): WireFrame[] => [{ ...wire(inner(0xbeef)), csumValid: valid }];
  it('counts the flag per level and never makes it a fault by itself (the stack sets csum_valid on its own)', () => {
    const p = [{ ...planned[0]!, innerKey: ipPacketKey(inner(0xbeef))! }];
    expect(innerValidBad(p, innerFrame(true), [0])).toEqual({ bothLevels: 0, innerOnly: 1 });
    expect(innerValidBad(p, innerFrame(true), [1])).toEqual({ bothLevels: 1, innerOnly: 0 });
    expect(innerValidBad(p, innerFrame(false), [1])).toEqual({ bothLevels: 0, innerOnly: 0 });
  });
});
