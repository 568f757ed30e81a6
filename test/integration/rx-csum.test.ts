/**
 * The RX checksum and fragment families end to end through the real CLI: a
 * sound veth DUT passes every case; a DUT whose ingress clears IPv4 UDP
 * checksums (so corrupted datagrams reach the socket) fails exactly the cases
 * that send such datagrams; a DUT whose ingress alters bytes inside IPv4
 * fragments fails the reassembly cases that must deliver intact data.
 */
import { execa } from 'execa';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ResultRecord } from '../../matrix/record.js';
import { nicmatrix, readRecord, tmpDir, verdictLines } from '../helpers/cli.js';
import { corruptIngress } from '../helpers/faults.js';
import { harnessProcesses, netnsOf } from '../helpers/leftovers.js';
import { makePortPair, type PortPair } from '../helpers/pair.js';

const pairs: PortPair[] = [];
afterAll(async () => {
  for (const p of pairs) await p.remove();
});

const find = (results: ResultRecord[], check: string, variant = 'offload-on') =>
  results.find((x) => x.check === check && x.variant === variant)!;

/** Distinct `check status` of every result that is not a pass. */
const notPassing = (results: ResultRecord[]) =>
  [...new Set(results.filter((x) => x.status !== 'pass').map((x) => `${x.check} ${x.status}`))].sort();

describe('rx-csum and frag on a sound device', () => {
  it('veth: every case passes, exit 0, counters and reassembly time in the evidence, nothing left behind', async () => {
    const out = path.join(tmpDir('rx'), 'run.json');
    const r = await nicmatrix(['run', '--target', 'veth', '--checks', 'rx-csum/*', '--checks', 'frag/*', '--out', out], {
      cwd: path.dirname(out),
    });
    const record = readRecord(out);
    expect(
      verdictLines(record).filter((l) => !/ pass$/.test(l)),
      r.stderr,
    ).toEqual([]);
    expect(r.exitCode, r.stderr).toBe(0);
    const results = record.targets[0]!.results;
    // 8 rx-csum and 18 frag checks, two variants each.
    expect(results.length).toBe(52);
    const udp = find(results, 'rx-csum/ipv4-udp');
    expect(udp.evidence).toMatchObject({
      reached: 200,
      delivered: 100,
      counted: { UdpInCsumErrors: { receptions: 100, delta: 100 } },
      badReportedValid: 0,
    });
    // veth hands frames over as they came: nothing validates them before the stack does.
    expect(udp.evidence.hardwareValidated).toBe('0 of 100');
    expect(find(results, 'rx-csum/ipv6-tcp').evidence).toMatchObject({ counted: { TcpInCsumErrors: { receptions: 100, delta: 100 } } });
    expect(find(results, 'rx-csum/ipv6-udp-zero').evidence).toMatchObject({
      counted: { Udp6InCsumErrors: { receptions: 100, delta: 100 } },
    });
    expect(find(results, 'rx-csum/ipv4-header').evidence).toMatchObject({ counted: { IpInHdrErrors: { receptions: 100, delta: 100 } } });
    const missing = find(results, 'frag/ipv4-missing');
    expect(missing.evidence).toMatchObject({
      reassemblyTime: { sysctl: 'net.ipv4.ipfrag_time', setTo: 3, was: '30' },
      reassembly: { IpReasmTimeout: 6, IpReasmFails: 6 },
    });
    expect(find(results, 'frag/ipv6-overlap').evidence).toMatchObject({ delivered: 0, fates: '6 dropped' });
    expect(find(results, 'frag/ipv4-send').evidence).toMatchObject({ fragmented: true, sizes: { count: 16, min: 1536, max: 65507 } });
    expect(await netnsOf(r.pid!)).toEqual([]);
    expect(await harnessProcesses([r.pid!])).toEqual([]);
  });
});

describe('rx-csum and frag catch a broken device', () => {
  it('phys: an ingress that clears the IPv4 UDP checksum of whole datagrams fails exactly rx-csum/ipv4-udp and rx-csum/vlan, exit 1', async () => {
    const pair = await makePortPair('rxb');
    pairs.push(pair);
    // After the DUT's capture saw the frame, before UDP checks it: a corrupted datagram now has "no checksum".
    await corruptIngress(pair.dutNs, pair.dutIf, ['ip protocol udp ip frag-off & 0x3fff == 0 @th,48,16 set 0']);
    const before = await pair.state();
    const out = path.join(tmpDir('rxb'), 'run.json');
    const r = await nicmatrix(['run', '--target', pair.spec, '--checks', 'rx-csum/*', '--out', out], { cwd: path.dirname(out) });
    const results = readRecord(out).targets[0]!.results;
    expect(notPassing(results), r.stderr).toEqual(['rx-csum/ipv4-udp fail', 'rx-csum/vlan fail']);
    expect(r.exitCode).toBe(1);
    const failed = find(results, 'rx-csum/ipv4-udp');
    expect(failed.message).toMatch(
      /^IPv4 UDP: 100 frame\(s\) \(IPv4 bad-l4\) must be dropped but reached the socket; 100 receptions must raise UdpInCsumErrors, it rose by 0$/,
    );
    expect(failed.evidence.pcap).toMatch(/\.pcap$/);
    expect(find(results, 'rx-csum/vlan').message).toMatch(/50 frame\(s\) \(IPv4 bad-l4\) must be dropped but reached the socket/);
    expect(await pair.state()).toEqual(before);
  });

  it('phys: an ingress that alters a byte inside later IPv4 fragments (checksum cleared) fails the reassembly cases that deliver, and restores ipfrag_time', async () => {
    const pair = await makePortPair('frb');
    pairs.push(pair);
    await corruptIngress(pair.dutNs, pair.dutIf, [
      // Non-first fragments: the first data byte after a 20-byte header.
      'ip frag-off & 0x1fff != 0 @nh,160,8 set 0x5a',
      // First fragments: no UDP checksum any more, so the altered datagram is delivered.
      'ip frag-off & 0x3fff == 0x2000 ip protocol udp @th,48,16 set 0',
    ]);
    const sysctl = async () => (await execa('ip', ['netns', 'exec', pair.dutNs, 'cat', '/proc/sys/net/ipv4/ipfrag_time'])).stdout;
    const fragTime = await sysctl();
    const out = path.join(tmpDir('frb'), 'run.json');
    const r = await nicmatrix(['run', '--target', pair.spec, '--checks', 'frag/ipv4-*', '--out', out], { cwd: path.dirname(out) });
    const results = readRecord(out).targets[0]!.results;
    const failing = ['receive', 'in-order', 'reverse', 'shuffled', 'duplicate', 'bad-csum'].map((c) => `frag/ipv4-${c} fail`);
    expect(notPassing(results), r.stderr).toEqual(failing.sort());
    expect(r.exitCode).toBe(1);
    expect(find(results, 'frag/ipv4-in-order').message).toMatch(
      /match no consistent reading of anything sent; first: \d+ bytes \(nearest: datagram \d+ of \d+ bytes, first difference at byte \d+\)/,
    );
    expect(find(results, 'frag/ipv4-bad-csum').message).toMatch(
      /8 delivered datagram\(s\) match no consistent reading.*UdpInCsumErrors rose by 0/,
    );
    expect(await sysctl()).toBe(fragTime);
  });
});
