import { describe, expect, it } from 'vitest';
import { resolveProfile, shippedProfile, type Profile } from '../../matrix/profile.js';
import { checksNeeded, evidenceAt, judgeRequirement, judgeTarget, selectTarget } from '../../matrix/qualify.js';
import type { ResultRecord, Status } from '../../matrix/record.js';
import { qualificationFiles, qualificationReport, type QualificationReport } from '../../reports/qualification/index.js';
import { e1000Target, runRecord, vethTarget } from '../fixtures/records.js';

const TX = [
  'tx-csum/ipv4-udp',
  'tx-csum/ipv4-tcp',
  'tx-csum/ipv6-udp',
  'tx-csum/ipv6-tcp',
  'tx-csum/generic',
  'tx-csum/udp-zero',
  'tx-csum/udp-nocsum',
  'tx-csum/ipv4-options',
  'tx-csum/ipv6-exthdr',
  'tx-csum/vlan',
];

function r(
  check: string,
  variant: string,
  status: Status,
  evidence: Record<string, unknown> = {},
  message = `${status} message`,
): ResultRecord {
  return { check, variant, status, durationMs: 5, message, evidence };
}

/** A device whose every tx-csum variant passed, with complete or partial checksums when offload is on. */
function txResults(onDelivery: 'complete' | 'partial', over: Record<string, Partial<ResultRecord>> = {}): ResultRecord[] {
  return TX.flatMap((c) => [
    { ...r(c, 'offload-on', 'pass', { delivery: onDelivery }), ...over[`${c} offload-on`] },
    { ...r(c, 'offload-off', 'pass', { delivery: 'complete' }), ...over[`${c} offload-off`] },
  ]);
}

const offload = shippedProfile('offload')!;
const byId = (q: ReturnType<typeof judgeTarget>, id: string) => q.requirements.find((x) => x.id === id)!;

describe('judging a target against a profile', () => {
  it('a device that computes its checksums meets offload; absent families are not applicable', () => {
    const q = judgeTarget(offload, e1000Target(txResults('complete')), TX);
    expect(q.level.met).toBe(true);
    expect(byId(q, 'tx-offload-ipv4').verdict).toBe('met');
    expect(byId(q, 'tx-offload-ipv4').why).toBe('2 pass across 2 check(s)');
    expect(byId(q, 'rx-offload-ipv4')).toMatchObject({
      verdict: 'not-applicable',
      why: 'check not available in this version: no check matches rx-csum/ipv4-*',
    });
    expect(q.level.why).toBe('all 4 applicable requirement(s) met; 5 not applicable');
  });

  it('checksums left partial are not hardware offload: the requirement says which check and why', () => {
    const q = judgeTarget(offload, vethTarget(txResults('partial')), TX);
    expect(q.level.met).toBe(false);
    const req = byId(q, 'tx-offload-ipv6');
    expect(req.verdict).toBe('not-met');
    expect(req.why).toContain('tx-csum/ipv6-udp [offload-on]: evidence delivery is "partial", expected "complete"');
    expect(req.results.filter((x) => x.effect === 'against')).toHaveLength(2);
    expect(byId(q, 'tx-csum-software').verdict).toBe('met');
    expect(q.level.why).toBe('2 of 9 requirement(s) not met: tx-offload-ipv4, tx-offload-ipv6');
  });

  it('a failed required check fails its requirement with the check message; unsupported is not enough for offload', () => {
    const results = txResults('complete', {
      'tx-csum/ipv4-tcp offload-on': { status: 'fail', message: 'peer saw 3 bad TCP checksums' },
      'tx-csum/ipv6-udp offload-on': { status: 'unsupported', message: 'tx-checksumming [fixed] off' },
    });
    const q = judgeTarget(offload, e1000Target(results), TX);
    expect(byId(q, 'tx-offload-ipv4').why).toBe('tx-csum/ipv4-tcp [offload-on]: fail (needs pass): peer saw 3 bad TCP checksums');
    expect(byId(q, 'tx-offload-ipv6').why).toBe('tx-csum/ipv6-udp [offload-on]: unsupported (needs pass): tx-checksumming [fixed] off');
    expect(q.level.met).toBe(false);
  });

  it('baseline accepts unsupported software paths (the device cannot turn the offload off)', () => {
    const results = txResults('partial', Object.fromEntries(TX.map((c) => [`${c} offload-off`, { status: 'unsupported' as Status }])));
    const q = judgeTarget(shippedProfile('baseline')!, vethTarget(results, { spec: 'lo', kind: 'lo' }), TX);
    expect(byId(q, 'tx-csum-software').verdict).toBe('met');
    expect(byId(q, 'tx-csum-software').why).toBe('4 unsupported across 4 check(s)');
    expect(q.level.met).toBe(true);
  });

  it('harness errors are counted and never meet a requirement', () => {
    const t = vethTarget(
      TX.map((c) => r(c, 'all', 'error', {}, 'target could not be set up: no such device')),
      { setupError: { code: 'TARGET_SETUP', message: 'no such device' } },
    );
    const q = judgeTarget(offload, t, TX);
    expect(q.level.met).toBe(false);
    expect(q.level.harnessErrors).toBeGreaterThan(0);
    expect(byId(q, 'tx-csum-software').why).toContain('harness error, no verdict: target could not be set up');
  });

  it('a check this version knows but the record lacks is not met (re-run needed); a missing variant says what ran', () => {
    const only = TX.filter((c) => c !== 'tx-csum/ipv6-tcp').flatMap((c) => [
      r(c, 'offload-on', 'pass', { delivery: 'complete' }),
      r(c, 'offload-off', 'pass'),
    ]);
    const q = judgeTarget(offload, e1000Target(only), TX);
    expect(byId(q, 'tx-offload-ipv6').why).toBe('tx-csum/ipv6-tcp: no verdict in the run record (the run did not include this check)');
    const noOn = e1000Target([
      r('tx-csum/ipv4-udp', 'offload-off', 'pass'),
      r('tx-csum/ipv4-tcp', 'offload-on', 'pass', { delivery: 'complete' }),
    ]);
    expect(
      judgeRequirement(
        offload.requirements.find((x) => x.id === 'tx-offload-ipv4')!,
        noOn,
        TX,
      ).why,
    ).toBe('tx-csum/ipv4-udp: no verdict of a variant matching offload-on (variants run: offload-off)');
  });

  it('all-skip is not applicable with the skip message; skips among passes do not count', () => {
    const p: Profile = resolveProfile(
      { schema: 'nicmatrix.profile/1', name: 'v', title: 'VLAN', requirements: [{ id: 'vlan', title: 'vlan', checks: ['tx-csum/vlan'] }] },
      'v.json',
    );
    const skip = judgeTarget(
      p,
      vethTarget([
        r('tx-csum/vlan', 'offload-on', 'skip', {}, 'no 802.1Q module'),
        r('tx-csum/vlan', 'offload-off', 'skip', {}, 'no 802.1Q module'),
      ]),
      TX,
    );
    expect(skip.requirements[0]).toMatchObject({ verdict: 'not-applicable' });
    expect(skip.requirements[0]!.why).toContain('skipped on this device: tx-csum/vlan [offload-on]: no 802.1Q module');
    expect(skip.level).toMatchObject({ met: false, why: 'nothing could be verified: every requirement is not applicable' });
    const mixed = judgeTarget(p, vethTarget([r('tx-csum/vlan', 'offload-on', 'pass'), r('tx-csum/vlan', 'offload-off', 'skip')]), TX);
    expect(mixed.requirements[0]).toBeDefined();
    expect(mixed.requirements[0]!.verdict).toBe('met');
  });

  it('RX offload counts only when the device itself marked good checksums valid (a matches condition)', () => {
    const rx = ['rx-csum/ipv4-udp', 'rx-csum/ipv4-tcp', 'rx-csum/ipv6-udp', 'rx-csum/ipv6-tcp'];
    const withRx = (validated: string) => [
      ...txResults('complete'),
      ...rx.flatMap((c) => [
        r(c, 'offload-on', 'pass', { hardwareValidated: validated }),
        r(c, 'offload-off', 'pass', { hardwareValidated: '0 of 100' }),
      ]),
    ];
    const soft = judgeTarget(offload, e1000Target(withRx('0 of 100')), [...TX, ...rx]);
    expect(byId(soft, 'rx-hw-validated').verdict).toBe('not-met');
    expect(byId(soft, 'rx-hw-validated').why).toContain(
      'rx-csum/ipv4-udp [offload-on]: evidence hardwareValidated is "0 of 100", expected to match /^[1-9][0-9]* of /: the device must mark good frames valid',
    );
    expect(byId(soft, 'rx-offload-ipv4').verdict).toBe('met');
    const hard = judgeTarget(offload, e1000Target(withRx('96 of 100')), [...TX, ...rx]);
    expect(byId(hard, 'rx-hw-validated')).toMatchObject({ verdict: 'met', why: '4 pass across 4 check(s)' });
    expect(hard.level.met).toBe(true);
  });

  it('checks found only in the record count as known (judging a record from a newer version)', () => {
    const p: Profile = resolveProfile(
      { schema: 'nicmatrix.profile/1', name: 'z', title: 'ZC', requirements: [{ id: 'zc', title: 'zc', checks: ['zc/*'] }] },
      'z.json',
    );
    const q = judgeTarget(p, vethTarget([r('zc/sendfile', 'sg-on', 'fail', {}, 'byte 4096 differs')]), TX);
    expect(q.requirements[0]).toMatchObject({ verdict: 'not-met', checks: ['zc/sendfile'] });
  });
});

describe('planning and helpers', () => {
  it('checksNeeded asks only for what the profile names, with the union of variant globs', () => {
    const need = checksNeeded(offload, [...TX, 'zc/sendfile']);
    expect([...need.keys()]).toEqual([
      'tx-csum/ipv4-udp',
      'tx-csum/ipv4-tcp',
      'tx-csum/ipv6-udp',
      'tx-csum/ipv6-tcp',
      'tx-csum/udp-zero',
      'tx-csum/udp-nocsum',
      'tx-csum/ipv4-options',
      'tx-csum/ipv6-exthdr',
      'zc/sendfile',
    ]);
    expect(need.get('tx-csum/ipv4-udp')).toEqual(['offload-off', 'offload-on']);
    expect(need.get('tx-csum/udp-zero')).toEqual(['offload-off']);
    expect(need.get('zc/sendfile')).toBeUndefined();
    expect(need.has('tx-csum/generic')).toBe(false);
    expect(checksNeeded(shippedProfile('full')!, TX).get('tx-csum/generic')).toEqual(['offload-on']);
  });

  it('evidenceAt follows dot paths and never inherited properties', () => {
    expect(evidenceAt({ counters: { nstat: { UdpInCsumErrors: 3 } } }, 'counters.nstat.UdpInCsumErrors')).toBe(3);
    expect(evidenceAt({ a: 1 }, 'a.b')).toBeUndefined();
    expect(evidenceAt({}, 'constructor')).toBeUndefined();
  });

  it('selectTarget takes the only target, or the named one, else says which exist', () => {
    const two = runRecord([vethTarget([]), e1000Target([])]);
    expect(selectTarget(two, 'run.json', 'qemu:e1000').spec).toBe('qemu:e1000');
    expect(() => selectTarget(two, 'run.json')).toThrow(
      'run.json: the run record has 2 targets (veth, qemu:e1000); choose one with --target SPEC',
    );
    expect(() => selectTarget(two, 'run.json', 'lo')).toThrow('run.json: no target "lo" in the run record (targets: veth, qemu:e1000)');
  });
});

describe('the qualification report', () => {
  function report(results: ResultRecord[], message = ''): QualificationReport {
    const target = e1000Target(results, {
      device: { model: 'e1000', pciId: '8086:100e', description: `Intel <b>"82540EM"</b> ${message}` },
    });
    const record = runRecord([target]);
    return qualificationReport({
      profile: offload,
      qualification: judgeTarget(offload, target, TX),
      record,
      target,
      recordFile: 'out/q/run.json',
      recordSha256: 'ab'.repeat(32),
      generatedAt: '2025-06-01T00:00:00.000Z',
      toolVersion: '0.1.0',
    });
  }

  it('JSON carries identity, per-requirement verdicts, levels, and the record by path and hash; the headline says it all in one line', () => {
    const rep = report(txResults('complete'));
    expect(rep.schema).toBe('nicmatrix.qualification/1');
    expect(rep.device).toMatchObject({
      pciId: '8086:100e',
      driver: 'e1000',
      driverVersion: '7.3.21-k8-NAPI',
      kernel: '6.18.0',
      spec: 'qemu:e1000',
    });
    expect(rep.run.sha256).toBe('ab'.repeat(32));
    expect(rep.run).toMatchObject({ file: 'out/q/run.json', target: 'qemu:e1000', targets: 1 });
    expect(rep).not.toHaveProperty('record');
    expect(rep.levels).toHaveLength(10);
    expect(rep.levels.find((l) => l.check === 'tx-csum/ipv4-udp')).toMatchObject({ level: 'offloaded' });
    expect(rep.headline).toBe(
      `Intel <b>"82540EM"</b>  [qemu:e1000] (driver e1000 7.3.21-k8-NAPI, PCI 8086:100e, kernel 6.18.0): offload MET — all 4 applicable requirement(s) met; 5 not applicable`,
    );
    const files = qualificationFiles(rep);
    expect(JSON.parse(files.get('report.json') as string)).toEqual(JSON.parse(JSON.stringify(rep)));
  });

  it('HTML is self-contained and escapes everything from the record', () => {
    const evil = '<script>alert(1)</script>';
    const rep = report(txResults('partial', { 'tx-csum/ipv4-udp offload-on': { status: 'fail', message: evil } }), evil);
    const html = qualificationFiles(rep).get('report.html') as string;
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toMatch(/<(link|img|iframe)\b|src=|href="(https?:|\/\/)/);
    expect(html).toContain('NOT QUALIFIED');
    expect(html).toContain('id="req-tx-offload-ipv4"');
    expect(html).toContain('ab'.repeat(32));
    expect(html).toContain('nicmatrix qualify --profile offload --from-run out/q/run.json');
  });
});
