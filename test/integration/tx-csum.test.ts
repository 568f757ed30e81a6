/**
 * The TX checksum family end to end through the real CLI: sound devices pass,
 * and a device whose egress corrupts one family's checksums fails exactly that.
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

describe('tx-csum on sound devices', () => {
  it('lo and veth: every case pass or unsupported, no error, exit 0, nothing left behind', async () => {
    const dir = tmpDir('tx');
    const out = path.join(dir, 'run.json');
    const r = await nicmatrix(['run', '--target', 'lo', '--target', 'veth', '--checks', 'tx-csum/*', '--out', out]);
    const record = readRecord(out);
    const lines = verdictLines(record);
    expect(
      lines.filter((l) => !/ (pass|unsupported)$/.test(l)),
      r.stderr,
    ).toEqual([]);
    expect(r.exitCode, r.stderr).toBe(0);
    // 10 checks × 2 variants on each target.
    expect(record.targets.map((t) => t.results.length)).toEqual([20, 20]);
    const veth = record.targets.find((t) => t.spec === 'veth')!;
    expect(veth.driver.name).toBe('veth');
    expect(veth.results.find((x) => x.check === 'tx-csum/ipv4-udp' && x.variant === 'offload-on')!.evidence.delivery).toBe('partial');
    expect(veth.results.find((x) => x.check === 'tx-csum/ipv4-udp' && x.variant === 'offload-off')!.evidence.delivery).toBe('complete');
    expect(await netnsOf(r.pid)).toEqual([]);
  });
});

describe('tx-csum catches a broken device', () => {
  it('phys: a DUT whose egress corrupts IPv4 TCP checksums fails exactly tx-csum/ipv4-tcp, exits 1, ports end as found', async () => {
    const pair = await makePortPair('tx');
    pairs.push(pair);
    await corruptEgress(pair.dutNs, pair.dutIf, ['ip protocol tcp @th,128,16 set 0xbeef']);
    const before = await pair.state();
    const out = path.join(tmpDir('txphys'), 'run.json');
    const r = await nicmatrix(['run', '--target', pair.spec, '--checks', 'tx-csum/*', '--out', out]);
    const lines = verdictLines(readRecord(out));
    expect(
      lines.filter((l) => / (fail|error)$/.test(l)),
      r.stderr,
    ).toEqual([`${pair.spec} tx-csum/ipv4-tcp [offload-on] fail`, `${pair.spec} tx-csum/ipv4-tcp [offload-off] fail`]);
    expect(r.exitCode).toBe(1);
    expect(await pair.state()).toEqual(before);
    const failed = readRecord(out).targets[0]!.results.find((x) => x.status === 'fail')!;
    expect(failed.message).toMatch(/wrong/);
    expect(failed.evidence.pcap).toMatch(/\.pcap$/);
  });

  it.each([
    ['IPv6 UDP checksum field overwritten', ['ip6 nexthdr udp @th,48,16 set 0x1234'], ['ipv6-udp', 'udp-zero']],
    [
      'IPv4 UDP checksum cleared (generic sends IPv4 UDP too)',
      ['ip protocol udp @th,48,16 set 0'],
      ['ipv4-udp', 'udp-zero', 'ipv4-options', 'generic'],
    ],
    ['non-IP frame bytes rewritten (generic offload)', ['ether type 0x88b5 @ll,160,8 set 0x5a'], ['generic']],
  ])('%s: fails exactly %j', async (_name, rules, checks) => {
    const pair = await makePortPair('txf');
    pairs.push(pair);
    await corruptEgress(pair.dutNs, pair.dutIf, rules);
    const out = path.join(tmpDir('txf'), 'run.json');
    const r = await nicmatrix(['run', '--target', pair.spec, '--checks', 'tx-csum/*', '--out', out]);
    const failing = [
      ...new Set(
        readRecord(out)
          .targets[0]!.results.filter((x) => x.status !== 'pass' && x.status !== 'unsupported')
          .map((x) => `${x.check.replace('tx-csum/', '')} ${x.status}`),
      ),
    ];
    expect(failing.sort(), r.stderr).toEqual(checks.map((c) => `${c} fail`).sort());
    expect(r.exitCode).toBe(1);
  });
});
