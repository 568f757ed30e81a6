/**
 * `nicmatrix qualify` end to end through the real CLI: veth does not earn
 * `offload` (its checksums are never computed by a device), a broken port
 * fails `baseline` with the requirement and why in the report, QEMU's e1000
 * meets a TX-offload profile file, and every report re-judges from its run
 * record alone to the same verdicts and hash.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { QualificationReport } from '../../reports/qualification/report.js';
import { nicmatrix, readRecord, tmpDir } from '../helpers/cli.js';
import { corruptEgress } from '../helpers/faults.js';
import { makePortPair, type PortPair } from '../helpers/pair.js';

const pairs: PortPair[] = [];
afterAll(async () => {
  for (const p of pairs) await p.remove();
});

const report = (dir: string): QualificationReport =>
  JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as QualificationReport;
const verdicts = (r: QualificationReport) => Object.fromEntries(r.requirements.map((q) => [q.id, q.verdict]));
const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** A profile file: TX checksums right in software and computed by the device, IPv4 UDP only (fast on QEMU). */
const TX_PROFILE = {
  schema: 'nicmatrix.profile/1',
  name: 'tx-ipv4-udp',
  title: 'IPv4 UDP TX checksum offload',
  requirements: [
    { id: 'software', title: 'stack checksums', checks: ['tx-csum/ipv4-udp'], variants: ['offload-off'], accept: ['pass', 'unsupported'] },
    {
      id: 'hardware',
      title: 'device checksums',
      checks: ['tx-csum/ipv4-udp'],
      variants: ['offload-on'],
      evidence: [{ path: 'delivery', equals: 'complete', why: 'computed by the device' }],
    },
  ],
};

describe('qualify', () => {
  it('veth: offload NOT met because its checksums stay partial; only the needed checks ran; the record re-judges alike', async () => {
    const out = path.join(tmpDir('qveth'), 'q');
    const r = await nicmatrix(['qualify', '--profile', 'offload', '--target', 'veth', '--no-store', '--out', out, '--seed', '11']);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stdout).toMatch(
      /^Linux virtual Ethernet pair \[veth\] \(driver veth .*\): offload NOT MET — .*tx-offload-ipv4, tx-offload-ipv6/,
    );
    const rep = report(out);
    expect(rep.level.met).toBe(false);
    expect(verdicts(rep)).toMatchObject({
      'tx-csum-software': 'met',
      'tx-csum-edge-software': 'met',
      'tx-offload-ipv4': 'not-met',
      'tx-offload-ipv6': 'not-met',
    });
    expect(rep.requirements.find((q) => q.id === 'tx-offload-ipv4')!.why).toContain(
      'tx-csum/ipv4-udp [offload-on]: evidence delivery is "partial", expected "complete"',
    );
    expect(rep.device).toMatchObject({ spec: 'veth', kind: 'veth', driver: 'veth', model: 'veth' });
    const recordFile = path.join(out, 'run.json');
    expect(rep.run.sha256).toBe(sha256(recordFile));
    // The report names the record by path and hash instead of embedding it.
    expect(rep).not.toHaveProperty('record');
    expect(rep.run).toMatchObject({ file: recordFile, id: readRecord(recordFile).id, target: 'veth' });
    expect(rep.levels.find((l) => l.check === 'tx-csum/ipv4-udp')).toMatchObject({ level: 'partial' });
    // Nothing more than the profile needs: no generic or VLAN check, no offload-on variant of the software-only edge cases.
    const ran = readRecord(recordFile).targets[0]!.results.map((x) => `${x.check} [${x.variant}]`);
    expect(
      ran.filter((x) => x.startsWith('tx-csum/generic') || x.startsWith('tx-csum/vlan') || x === 'tx-csum/udp-zero [offload-on]'),
    ).toEqual([]);
    expect(ran).toContain('tx-csum/ipv4-udp [offload-on]');

    const again = path.join(tmpDir('qveth2'), 'q');
    const rj = await nicmatrix(['qualify', '--profile', 'offload', '--from-run', recordFile, '--out', again]);
    expect(rj.exitCode, rj.stderr).toBe(1);
    expect(verdicts(report(again))).toEqual(verdicts(rep));
    expect(report(again).run.sha256).toBe(rep.run.sha256);
    expect(rj.stdout).toBe(r.stdout);

    // The same record meets a profile that asks only for correct stack checksums: exit 0.
    const file = path.join(tmpDir('qprof'), 'software.json');
    fs.writeFileSync(file, JSON.stringify({ ...TX_PROFILE, requirements: TX_PROFILE.requirements.slice(0, 1) }));
    const ok = await nicmatrix(['qualify', '--profile', file, '--from-run', recordFile, '--out', path.join(tmpDir('qok'), 'q')]);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('tx-ipv4-udp MET — all 1 applicable requirement(s) met');
  });

  it('a port whose egress corrupts IPv6 TCP checksums is not qualified for baseline, and the report says which requirement and why', async () => {
    const pair = await makePortPair('qual');
    pairs.push(pair);
    await corruptEgress(pair.dutNs, pair.dutIf, ['ip6 nexthdr tcp @th,128,16 set 0xbeef']);
    const before = await pair.state();
    const out = path.join(tmpDir('qbroken'), 'q');
    const r = await nicmatrix(['qualify', '--profile', 'baseline', '--target', pair.spec, '--no-store', '--out', out]);
    expect(r.exitCode, r.stderr).toBe(1);
    const rep = report(out);
    const failed = rep.requirements.filter((q) => q.verdict === 'not-met');
    expect(failed.map((q) => q.id)).toContain('tx-csum-software');
    expect(failed.find((q) => q.id === 'tx-csum-software')!.why).toMatch(
      /^tx-csum\/ipv6-tcp \[offload-off\]: fail \(needs pass or unsupported\): .*wrong/,
    );
    expect(rep.requirements.find((q) => q.id === 'tx-csum-edge-software')!.verdict).toBe('met');
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('NOT QUALIFIED');
    expect(html).toContain('tx-csum/ipv6-tcp [offload-off]: fail');
    expect(await pair.state()).toEqual(before);
  });

  it('QEMU e1000 meets a TX offload profile file: its checksums are computed by the device model; PCI ids in the report', async () => {
    const dir = tmpDir('qe1000');
    const file = path.join(dir, 'tx.json');
    fs.writeFileSync(file, JSON.stringify(TX_PROFILE));
    const out = path.join(dir, 'q');
    const r = await nicmatrix(['qualify', '--profile', file, '--target', 'qemu:e1000', '--no-store', '--out', out]);
    expect(r.exitCode, r.stderr).toBe(0);
    const rep = report(out);
    expect(rep.level).toMatchObject({ met: true, profile: 'tx-ipv4-udp' });
    expect(rep.device).toMatchObject({ spec: 'qemu:e1000', kind: 'qemu', model: 'e1000', driver: 'e1000' });
    expect(rep.device.pciId).toMatch(/^8086:100e/);
    expect(rep.profile.source).toBe(file);
    expect(r.stdout).toMatch(/^Intel 82540EM .*\[qemu:e1000\] \(driver e1000 .*PCI 8086:100e.*\): tx-ipv4-udp MET/);
  });

  it('usage errors name what is wrong: unknown profile, invalid profile field, ambiguous record', async () => {
    const unknown = await nicmatrix(['qualify', '--profile', 'gold', '--target', 'veth']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain(
      '--profile gold: expected a shipped profile (baseline, offload, full) or a profile file, found neither',
    );
    const dir = tmpDir('qbad');
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ ...TX_PROFILE, requirements: [{ ...TX_PROFILE.requirements[0], accept: ['fail'] }] }));
    const invalid = await nicmatrix(['qualify', '--profile', bad, '--target', 'veth']);
    expect(invalid.exitCode).toBe(2);
    expect(invalid.stderr).toContain(`[PROFILE_INVALID]: ${bad}: /requirements/0/accept/0: must be one of pass, unsupported, skip`);
    const two = path.join(dir, 'two.json');
    const run = await nicmatrix([
      'run',
      '--no-store',
      '--target',
      'lo',
      '--target',
      'veth',
      '--checks',
      'tx-csum/udp-nocsum',
      '--out',
      two,
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const ambiguous = await nicmatrix(['qualify', '--profile', 'baseline', '--from-run', two]);
    expect(ambiguous.exitCode).toBe(2);
    expect(ambiguous.stderr).toContain(`${two}: the run record has 2 targets (lo, veth); choose one with --target SPEC`);
    const lo = await nicmatrix(['qualify', '--profile', 'baseline', '--from-run', two, '--target', 'lo', '--out', path.join(dir, 'lo')]);
    expect(report(path.join(dir, 'lo')).device.spec).toBe('lo');
    expect(lo.exitCode).toBe(1);
  });
});
