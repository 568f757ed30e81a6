/**
 * Segmentation offload end to end through the real CLI: sound devices pass
 * every case; a device that breaks super-frames fails the segmentation
 * family with the right message while tx-csum/* of the same run still passes.
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

describe('segmentation offload on sound devices', () => {
  it('lo and veth: every tso and uso case passes or is unsupported, exit 0, nothing left behind', { timeout: 300_000 }, async () => {
    const out = path.join(tmpDir('tso'), 'run.json');
    const r = await nicmatrix(['run', '--target', 'lo', '--target', 'veth', '--checks', 'tso/*', '--checks', 'uso/*', '--out', out]);
    const record = readRecord(out);
    // tso/vlan is skipped on loopback (no 802.1Q there) and where the kernel lacks 802.1Q, each saying why.
    expect(
      verdictLines(record).filter((l) => !/ (pass|unsupported)$/.test(l) && !/ tso\/vlan \[.*\] skip$/.test(l)),
      r.stderr,
    ).toEqual([]);
    for (const t of record.targets)
      for (const x of t.results.filter((x) => x.status === 'skip'))
        expect(x.message).toMatch(t.spec === 'lo' ? /loopback/ : /no 802\.1Q support/);
    expect(r.exitCode, r.stderr).toBe(0);
    const veth = record.targets.find((t) => t.spec === 'veth')!;
    const tso = veth.results.find((x) => x.check === 'tso/ipv4' && x.variant === 'tso')!;
    expect(tso.status).toBe('pass');
    // veth hands the super-frame through whole: judged as the segments it becomes.
    expect(tso.message).toMatch(/super-frames cut into \d+ segments/);
    expect(await netnsOf(r.pid)).toEqual([]);
  });

  it('--repeat 3 on veth: every attempt of a sound device agrees, each on its own seed (its own ports)', { timeout: 300_000 }, async () => {
    const out = path.join(tmpDir('tso-repeat'), 'run.json');
    const r = await nicmatrix(['run', '--target', 'veth', '--checks', 'tso/ipv4', '--repeat', '3', '--out', out]);
    expect(r.exitCode, r.stderr).toBe(0);
    const results = readRecord(out).targets[0]!.results;
    expect(results.length).toBeGreaterThan(0);
    for (const x of results) {
      const attempts = x.evidence.attempts as { status: string; seed: number }[];
      expect(
        attempts.map((a) => a.status),
        `${x.variant}: ${x.message}`,
      ).toEqual([x.status, x.status, x.status]);
      expect(new Set(attempts.map((a) => a.seed)).size).toBe(3);
      expect(x.evidence.flaky).toBeUndefined();
    }
  });
});

/** Checks run together with the segmentation family: tx-csum must not suffer from a super-frame-only fault. */
const TOGETHER = ['--checks', 'tso/*', '--checks', 'uso/*', '--checks', 'tx-csum/*'];

async function brokenRun(tag: string, rules: string[]) {
  const pair = await makePortPair(tag);
  pairs.push(pair);
  await corruptEgress(pair.dutNs, pair.dutIf, rules);
  const out = path.join(tmpDir(tag), 'run.json');
  const r = await nicmatrix(['run', '--target', pair.spec, ...TOGETHER, '--out', out]);
  const record = readRecord(out);
  // tso/vlan is skipped where the kernel has no 802.1Q; every other case passes or fails.
  const bad = record.targets[0]!.results.filter((x) => !['pass', 'unsupported', 'skip'].includes(x.status));
  return { r, pair, record, bad, lines: verdictLines(record) };
}

/** TCP hands the device super-frames in every variant: with TSO and GSO off the kernel cuts them after the egress hook. */
const SUPER_FRAME_VARIANTS = ['tso', 'gso', 'off', 'tso-mtu1280'];
/** UDP_SEGMENT sends are super-frames at the egress hook too, whether the device or the kernel cuts them. */
const USO_VARIANTS = ['uso', 'gso'];
const expectedFails = (spec: string, uso: boolean) =>
  [
    ...['tso/ipv4', 'tso/ipv6'].flatMap((c) => SUPER_FRAME_VARIANTS.map((v) => `${spec} ${c} [${v}] fail`)),
    ...(uso ? ['uso/ipv4', 'uso/ipv6'].flatMap((c) => USO_VARIANTS.map((v) => `${spec} ${c} [${v}] fail`)) : []),
  ].sort();

describe('segmentation offload catches a broken device', () => {
  it(
    'phys: a device that rewrites the checksum seed of super-frames only fails tso/* and uso/* with a wrong seed; tx-csum/* passes',
    { timeout: 400_000 },
    async () => {
      const { r, pair, bad, lines } = await brokenRun('tsoseed', [
        'meta length > 1514 ip protocol tcp @th,128,16 set 0x1234',
        'meta length > 1514 ip6 nexthdr tcp @th,128,16 set 0x1234',
        'meta length > 1514 ip protocol udp @th,48,16 set 0x1234',
        'meta length > 1514 ip6 nexthdr udp @th,48,16 set 0x1234',
      ]);
      expect(bad.map((x) => `${pair.spec} ${x.check} [${x.variant}] ${x.status}`).sort(), r.stderr).toEqual(expectedFails(pair.spec, true));
      expect(lines.filter((l) => l.includes('tx-csum/') && !/ (pass|unsupported)$/.test(l))).toEqual([]);
      for (const x of bad) expect(x.message).toMatch(/wrong (checksum )?seed/);
      expect(r.exitCode).toBe(1);
    },
  );

  it(
    'phys: a device that drops the super-frame ending each write fails tso/* (lost tail, retransmissions); tx-csum/* passes',
    { timeout: 400_000 },
    async () => {
      const { r, pair, bad, lines } = await brokenRun('tsotail', [
        'meta length > 1514 ip protocol tcp tcp flags & psh == psh drop',
        'meta length > 1514 ip6 nexthdr tcp tcp flags & psh == psh drop',
      ]);
      expect(bad.map((x) => `${pair.spec} ${x.check} [${x.variant}] ${x.status}`).sort(), r.stderr).toEqual(
        expectedFails(pair.spec, false),
      );
      expect(lines.filter((l) => l.includes('tx-csum/') && !/ (pass|unsupported)$/.test(l))).toEqual([]);
      for (const x of bad) expect(x.message).toMatch(/retransmitted \d+ segment\(s\)|stalled|never appeared on the wire/);
      expect(r.exitCode).toBe(1);
    },
  );
});
