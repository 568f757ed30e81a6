/**
 * The tunnel checksum family end to end through the real CLI: veth (VXLAN; its
 * kernel here has no GENEVE or GRE, those skip naming the module) passes, and
 * a device whose egress breaks one level of VXLAN frames fails exactly the
 * cases that carry that level.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nicmatrix, readRecord, tmpDir, verdictLines } from '../helpers/cli.js';
import { corruptEgress } from '../helpers/faults.js';
import { netnsOf } from '../helpers/leftovers.js';
import { makePortPair, type PortPair } from '../helpers/pair.js';

const pairs: PortPair[] = [];
afterAll(async () => {
  for (const p of pairs) await p.remove();
});

/** Offsets from the outer UDP header: UDP 8 + VXLAN 8 + inner Ethernet 14, then the inner IP header. */
const INNER_ETHERTYPE = '@th,224,16';
const INNER_V4_PROTO = '@th,312,8';
const INNER_V6_NEXT = '@th,288,8';
/** Inner checksums: IPv4 UDP at 30+20+6, IPv4 TCP at 30+20+16, IPv6 UDP at 30+40+6 bytes. */
const CORRUPT_INNER = [
  `udp dport 4789 ${INNER_ETHERTYPE} 0x0800 ${INNER_V4_PROTO} 17 @th,448,16 set 0xbeef`,
  `udp dport 4789 ${INNER_ETHERTYPE} 0x0800 ${INNER_V4_PROTO} 6 @th,528,16 set 0xbeef`,
  `udp dport 4789 ${INNER_ETHERTYPE} 0x86dd ${INNER_V6_NEXT} 17 @th,608,16 set 0xbeef`,
];

describe('tunnel-csum on a sound device', () => {
  it('veth: VXLAN cases pass, GENEVE/GRE skip naming the kernel module, no error, nothing left behind', async () => {
    const out = path.join(tmpDir('tnl'), 'run.json');
    const r = await nicmatrix(['run', '--target', 'veth', '--checks', 'tunnel-csum/*', '--out', out]);
    const lines = verdictLines(readRecord(out));
    expect(
      lines.filter((l) => !/ (pass|skip)$/.test(l)),
      r.stderr,
    ).toEqual([]);
    expect(lines.filter((l) => /vxlan/.test(l)).every((l) => l.endsWith(' pass'))).toBe(true);
    expect(lines.filter((l) => /vxlan/.test(l))).toHaveLength(12);
    const skipped = readRecord(out).targets[0]!.results.filter((x) => x.status === 'skip');
    expect(skipped.every((x) => /kernel module (geneve|ip_gre|ip6_gre) missing/.test(x.message))).toBe(true);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await netnsOf(r.pid)).toEqual([]);
  }, 600_000);
});

describe('tunnel-csum catches a broken device', () => {
  it.each([
    [
      'inner UDP/TCP checksums of VXLAN frames overwritten (outer left alone)',
      CORRUPT_INNER,
      ['vxlan4-tx', 'vxlan4-nocsum-tx', 'vxlan6-tx', 'vxlan6-zerocsum-tx'],
      /inner/,
    ],
    ['outer UDP checksum of VXLAN frames zeroed', ['udp dport 4789 @th,48,16 set 0'], ['vxlan4-tx', 'vxlan6-tx'], /outer UDP checksum/],
  ])(
    'phys: %s fails exactly %j, in both variants',
    async (_name, rules, failing, why) => {
      const pair = await makePortPair('tnl');
      pairs.push(pair);
      await corruptEgress(pair.dutNs, pair.dutIf, rules);
      const out = path.join(tmpDir('tnlf'), 'run.json');
      const r = await nicmatrix(['run', '--target', pair.spec, '--checks', 'tunnel-csum/vxlan*', '--out', out]);
      const results = readRecord(out).targets[0]!.results;
      const bad = results
        .filter((x) => x.status !== 'pass')
        .map((x) => `${x.check.replace('tunnel-csum/', '')} [${x.variant}] ${x.status}`);
      expect(bad.sort(), r.stderr).toEqual(failing.flatMap((c) => [`${c} [offload-off] fail`, `${c} [offload-on] fail`]).sort());
      for (const x of results.filter((y) => y.status === 'fail')) {
        expect(x.message).toMatch(why);
        expect(x.evidence.pcap).toMatch(/\.pcap$/);
      }
      expect(r.exitCode).toBe(1);
    },
    600_000,
  );
});

describe('tunnel-csum and sctp-csum in a guest whose kernel has every module', () => {
  it('qemu:virtio-net-pci: GENEVE and GRE judged from the capture (the host cannot decapsulate them), SCTP sent and received, no fail or error', async () => {
    const out = path.join(tmpDir('tnlq'), 'run.json');
    const r = await nicmatrix([
      'run',
      '--target',
      'qemu:virtio-net-pci',
      '--checks',
      'tunnel-csum/geneve4-*',
      '--checks',
      'tunnel-csum/gre4-csum-*',
      '--checks',
      'sctp-csum/*',
      '--out',
      out,
    ]);
    const results = readRecord(out).targets[0]!.results;
    expect(
      results
        .filter((x) => x.status !== 'pass' && x.status !== 'unsupported')
        .map((x) => `${x.check} [${x.variant}] ${x.status}: ${x.message}`),
      r.stderr,
    ).toEqual([]);
    expect(results).toHaveLength(16);
    for (const x of results.filter((y) => y.check.endsWith('-tx') && y.check.startsWith('tunnel-csum/')))
      expect(x.message).toMatch(
        /judged from the capture alone: the peer's kernel cannot decapsulate, kernel module (geneve|ip_gre) missing/,
      );
    const sctpRx = results.find((x) => x.check === 'sctp-csum/ipv4-rx' && x.variant === 'offload-on')!;
    expect(sctpRx.evidence.counted).toMatchObject({ SctpChecksumErrors: { receptions: 30, delta: 30 } });
    expect(r.exitCode, r.stderr).toBe(0);
  }, 900_000);
});
