/**
 * "Rightly dropped" proves arrival, and every frame is accounted for, through
 * the real CLI on a veth pair driven as `phys:`. nftables netdev egress rules
 * on the PEER run before its AF_PACKET tap, so what they drop never leaves the
 * peer; ingress rules on the DUT run after its tap, so what they drop reached
 * the DUT (checked on this kernel). The same fault on either side must get a
 * different word: set-up loss (`error`) before the wire, the DUT's (`fail`) after.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ResultRecord } from '../../matrix/record.js';
import { nicmatrix, readRecord, tmpDir } from '../helpers/cli.js';
import { corruptEgress, corruptIngress } from '../helpers/faults.js';
import { makePortPair, type PortPair } from '../helpers/pair.js';

const pairs: PortPair[] = [];
afterAll(async () => {
  for (const p of pairs) await p.remove();
});

/** Distinct `check status` of every result that is not a pass. */
const notPassing = (results: ResultRecord[]) =>
  [...new Set(results.filter((x) => x.status !== 'pass').map((x) => `${x.check} ${x.status}`))].sort();
const find = (results: ResultRecord[], check: string, variant = 'offload-on') =>
  results.find((x) => x.check === check && x.variant === variant)!;

async function run(tag: string, pair: PortPair, checks: string[]) {
  const out = path.join(tmpDir(tag), 'run.json');
  const r = await nicmatrix(['run', '--target', pair.spec, ...checks.flatMap((c) => ['--checks', c]), '--out', out], {
    cwd: path.dirname(out),
  });
  return { r, results: readRecord(out).targets[0]!.results };
}

describe('a drop is only a pass for frames that reached the DUT', () => {
  it('phys: the peer never puts IPv6 UDP with checksum 0 nor tagged frames on the wire: rx-csum/ipv6-udp-zero and rx-csum/vlan are errors naming set-up loss, not a pass nor unsupported', async () => {
    const pair = await makePortPair('rxz');
    pairs.push(pair);
    await corruptEgress(pair.peerNs, pair.peerIf, ['ip6 nexthdr udp udp checksum 0 drop', 'ether type 8021q drop']);
    const { r, results } = await run('rxz', pair, ['rx-csum/ipv6-udp-zero', 'rx-csum/ipv6-udp', 'rx-csum/ipv4-udp-zero', 'rx-csum/vlan']);
    // Before: nothing delivered and nothing to count counted as "dropped and counted", and vanished tagged frames were "unsupported".
    expect(notPassing(results), r.stderr).toEqual(['rx-csum/ipv6-udp-zero error', 'rx-csum/vlan error']);
    expect(r.exitCode).toBe(2);
    const z = find(results, 'rx-csum/ipv6-udp-zero');
    expect(z.message).toBe(
      'IPv6 UDP with checksum 0: 100 frame(s) (IPv6 zero) never left the peer (not on its egress capture): set-up loss, the DUT was not judged on them',
    );
    expect(z.evidence.accounting).toMatchObject({
      frames: 200,
      sends: 400,
      reached: 100,
      delivered: 100,
      arrivals: { reached: 100, 'not-sent': 100 },
    });
    expect((z.evidence.accounting as { rounds: unknown[] }).rounds).toHaveLength(3);
    expect(find(results, 'rx-csum/vlan').message).toMatch(/^802\.1Q-tagged UDP: 250 frame\(s\) \(.*\) never left the peer/);
    expect(find(results, 'rx-csum/ipv6-udp').evidence.accounting).toMatchObject({
      frames: 200,
      reached: 200,
      rateSource: 'ethtool',
      rateMbps: 10000,
    });
  });

  it("phys: last fragments dropped before the peer sends them are set-up loss (error), dropped after the DUT saw them are the DUT's (fail)", async () => {
    const pair = await makePortPair('frl');
    pairs.push(pair);
    await corruptEgress(pair.peerNs, pair.peerIf, ['frag more-fragments 0 drop']);
    await corruptIngress(pair.dutNs, pair.dutIf, ['ip frag-off & 0x1fff != 0 ip frag-off & 0x2000 == 0 drop']);
    const { r, results } = await run('frl', pair, ['frag/ipv4-in-order', 'frag/ipv6-in-order', 'frag/ipv6-overlap', 'frag/ipv4-overlap']);
    // Before: frag/ipv6-overlap passed ("dropped whole") on datagrams that could never be reassembled, and ipv6-in-order failed the DUT.
    expect(notPassing(results), r.stderr).toEqual(['frag/ipv4-in-order fail', 'frag/ipv6-in-order error', 'frag/ipv6-overlap error']);
    expect(find(results, 'frag/ipv6-overlap').message).toMatch(
      /^IPv6 overlapping fragments: 6 fragment\(s\) never left the peer \(not on its egress capture\): set-up loss, the DUT was not judged on them$/,
    );
    expect(find(results, 'frag/ipv6-in-order').evidence.fates).toBe('8 not judged (fragments did not arrive)');
    // Every fragment reached the DUT's tap: what it did with them is its own.
    const v4 = find(results, 'frag/ipv4-in-order');
    expect(v4.message).toMatch(/^IPv4 fragments in-order: 8 never delivered \(datagrams 0, 1, 2, 3, 4, 5, 6, 7\)$/);
    expect(v4.evidence.accounting).toMatchObject({ arrivals: expect.objectContaining({ reached: expect.any(Number) }) });
    expect(Object.keys((v4.evidence.accounting as { arrivals: object }).arrivals)).toEqual(['reached']);
  });

  it('phys: fragments the peer alters on their way out are a set-up fault (error), not a reassembly fault', async () => {
    const pair = await makePortPair('fra');
    pairs.push(pair);
    // Non-first IPv4 fragments: the first data byte after a 20-byte header.
    await corruptEgress(pair.peerNs, pair.peerIf, ['ip frag-off & 0x1fff != 0 @nh,160,8 set 0x5a']);
    const { r, results } = await run('fra', pair, ['frag/ipv4-in-order', 'frag/ipv6-in-order']);
    expect(notPassing(results), r.stderr).toEqual(['frag/ipv4-in-order error']);
    expect(find(results, 'frag/ipv4-in-order').message).toMatch(
      /fragment\(s\) left the peer already altered \(frame \d+ differs at offset 34\): set-up fault, the DUT was not judged on them$/,
    );
  });
});

describe('frag/*-send: the peer receives through its own socket, and the frames on the wire are judged', () => {
  it('phys: a DUT that sends later IPv4 fragments with a wrong header checksum fails frag/ipv4-send with its own message', async () => {
    const pair = await makePortPair('frs');
    pairs.push(pair);
    await corruptEgress(pair.dutNs, pair.dutIf, ['ip frag-off & 0x1fff != 0 ip checksum set 0x1234']);
    const { r, results } = await run('frs', pair, ['frag/ipv4-send', 'frag/ipv6-send', 'frag/ipv4-receive']);
    expect(notPassing(results), r.stderr).toEqual(['frag/ipv4-send fail']);
    expect(r.exitCode).toBe(1);
    const s = find(results, 'frag/ipv4-send');
    expect(s.message).toMatch(
      /^IPv4 DUT → peer: 16 never delivered \(datagrams .*\); \d+ frame\(s\) left the sender with a wrong IPv4 header checksum; first: frame \d+ \(IP ID\/fragment \d+, offset \d+\): 0x1234$/,
    );
    expect(s.evidence.accounting).toMatchObject({ datagrams: 16, delivered: 0, sends: 48 });
  });
});
