/**
 * A DUT whose checksum verification is bypassed: every frame the peer injects
 * reaches the DUT's stack CHECKSUM_PARTIAL (a virtio_net_hdr with NEEDS_CSUM
 * through veth), which the stack trusts without summing, so corrupted UDP
 * datagrams and TCP segments are delivered. The rx-csum checks must fail, for
 * UDP and for TCP, with the bad data named as delivered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VethDut } from '../../drivers/veth.js';
import type { Dut, LinkInfo } from '../../drivers/types.js';
import type { ActionParams } from '../../harness/agent/protocol.js';
import type { VnetHeader } from '../../harness/codec/vnet.js';
import { rxCsumChecks, RX_VARIANTS } from '../../harness/checks/rx-csum/index.js';
import type { CheckContext } from '../../harness/checks/types.js';
import { parseFrame } from '../../harness/codec/index.js';

/** NEEDS_CSUM at the frame's L4 checksum: the receiving veth end keeps CHECKSUM_PARTIAL, and nobody checks the sum. */
function partialHeader(b64: string): VnetHeader {
  const l4 = parseFrame(Buffer.from(b64, 'base64')).l4;
  if (!l4 || l4.checksumOffset === undefined) return { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 };
  return { flags: 1, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: l4.offset, csumOffset: l4.checksumOffset - l4.offset };
}

/** The real veth target, with the peer's injected frames sent CHECKSUM_PARTIAL. */
function bypassing(inner: Dut): Dut {
  return {
    spec: inner.spec,
    start: (s) => inner.start(s),
    collect: () => inner.collect(),
    stop: () => inner.stop(),
    run(side, action, params, opts) {
      if (side === 'peer' && action === 'packet.send') {
        const p = params as ActionParams<'packet.send'>;
        return inner.run(side, action, { ...p, vnet: p.frames.map(partialHeader) } as typeof params, opts);
      }
      return inner.run(side, action, params, opts);
    },
  };
}

const veth = new VethDut('veth');
const dut = bypassing(veth);
let link: LinkInfo;

beforeAll(async () => {
  link = await dut.start(new AbortController().signal);
});
afterAll(async () => {
  await dut.stop();
});

async function runCheck(id: string) {
  const check = rxCsumChecks.find((c) => c.id === id)!;
  const ctx: CheckContext = {
    link,
    dut,
    variant: RX_VARIANTS[0]!,
    features: await dut.run('dut', 'ethtool.features', { ifname: link.dut.ifname }),
    seed: 20261124,
    signal: new AbortController().signal,
    log: () => undefined,
    writePcap: async () => undefined,
  };
  return check.run(ctx);
}

describe('rx-csum on a DUT that trusts every checksum', () => {
  it.each(['rx-csum/ipv4-udp', 'rx-csum/ipv6-udp'])(
    '%s fails: the corrupted datagrams reached the socket and were not counted',
    async (id) => {
      const o = await runCheck(id);
      expect(o.status).toBe('fail');
      expect(o.evidence.faults).toEqual([
        { kind: 'delivered-bad', count: 100, detail: 'must be dropped but reached the socket' },
        { kind: 'uncounted', count: 100, detail: expect.stringMatching(/^100 receptions must raise Udp6?InCsumErrors, it rose by 0$/) },
      ]);
    },
  );

  it.each(['rx-csum/ipv4-tcp', 'rx-csum/ipv6-tcp'])(
    '%s fails: the socket read the corrupted copies instead of the good segments',
    async (id) => {
      const o = await runCheck(id);
      expect(o.status).toBe('fail');
      expect(o.message).toMatch(/bytes of a corrupted segment were delivered/);
      expect(o.evidence.socketBytes).toBe(o.evidence.streamBytes);
      expect(o.evidence.socketSha256).not.toBe(o.evidence.wantSha256);
    },
  );

  it('the same checks pass on the same link when the peer sends plainly (the fault is the bypass, not the link)', async () => {
    const check = rxCsumChecks.find((c) => c.id === 'rx-csum/ipv4-tcp')!;
    const o = await check.run({
      link,
      dut: veth,
      variant: RX_VARIANTS[0]!,
      features: await veth.run('dut', 'ethtool.features', { ifname: link.dut.ifname }),
      seed: 20261124,
      signal: new AbortController().signal,
      log: () => undefined,
      writePcap: async () => undefined,
    });
    expect(o.status, o.message).toBe('pass');
  });
});
