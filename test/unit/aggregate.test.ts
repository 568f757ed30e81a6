import { describe, expect, it } from 'vitest';
import { aggregate } from '../../matrix/aggregate.js';
import { claimed } from '../../matrix/claims.js';
import { combine, judgeHistory, type Observation } from '../../matrix/history.js';
import { compareKernels, deviceKey, slug } from '../../matrix/identity.js';
import type { Status } from '../../matrix/record.js';
import { featureSnapshot, syntheticRuns } from '../../matrix/synthetic.js';
import { e1000Target, result, runRecord, vethRun, vethTarget } from '../fixtures/records.js';

function obs(kernel: string, status: Status, finishedAt: string, runId = `${kernel}-${finishedAt}`): Observation {
  return { runId, finishedAt, kernel, spec: 'veth', status, claimed: null, variants: [] };
}

describe('device identity', () => {
  it('keys on QEMU model, else PCI id, plus driver and firmware', () => {
    expect(deviceKey(e1000Target([]))).toBe('qemu:e1000|e1000|');
    const phys = vethTarget([], {
      kind: 'phys',
      device: { pciId: '8086:10d3', description: 'x' },
      driver: { name: 'e1000e', version: '', firmware: '0.13-4', bus: '' },
    });
    expect(deviceKey(phys)).toBe('pci:8086:10d3|e1000e|0.13-4');
    expect(deviceKey(vethTarget([]))).toBe('veth:veth pair|veth|');
    expect(deviceKey(vethTarget([], { device: { model: 'veth', description: 'Linux virtual Ethernet pair' } }))).toBe('veth:veth|veth|');
    // A QEMU model names the device for qemu targets only; elsewhere a PCI id wins.
    expect(deviceKey(vethTarget([], { kind: 'phys', device: { model: 'x', pciId: '8086:10d3', description: 'x' } }))).toBe(
      'pci:8086:10d3|veth|',
    );
  });

  it('makes distinct file-safe slugs', () => {
    expect(slug('pci:8086:10d3|e1000e|<script>')).toMatch(/^[a-z0-9.-]+$/);
    expect(slug('a|b')).not.toBe(slug('a/b'));
  });

  it('orders kernels by number', () => {
    expect(['6.18.0', '6.1.0-18-amd64', '6.9.1', '6.1.0', '5.10.0'].sort(compareKernels)).toEqual([
      '5.10.0',
      '6.1.0',
      '6.1.0-18-amd64',
      '6.9.1',
      '6.18.0',
    ]);
  });
});

describe('verdict history', () => {
  it('combines variants: fail > error > pass > unsupported > skip', () => {
    expect(combine(['pass', 'fail', 'error'])).toBe('fail');
    expect(combine(['pass', 'error'])).toBe('error');
    expect(combine(['unsupported', 'pass'])).toBe('pass');
    expect(combine(['skip', 'unsupported'])).toBe('unsupported');
  });

  it('flags pass → fail between kernels, and keeps the flag on a fail streak', () => {
    const h = judgeHistory([obs('6.1', 'pass', 't1'), obs('6.2', 'fail', 't2'), obs('6.3', 'fail', 't3')]);
    expect(h.perKernel.map((k) => [k.kernel, k.status, k.regression])).toEqual([
      ['6.1', 'pass', false],
      ['6.2', 'fail', true],
      ['6.3', 'fail', true],
    ]);
    expect(h.regressions).toEqual([{ across: 'kernel', from: { kernel: '6.1', runId: '6.1-t1' }, to: { kernel: '6.2', runId: '6.2-t2' } }]);
  });

  it('flags pass → fail between runs on one kernel, and clears it when fixed', () => {
    const h = judgeHistory([obs('6.1', 'pass', 't1'), obs('6.1', 'fail', 't2')]);
    expect(h.perKernel[0]).toMatchObject({ status: 'fail', regression: true });
    expect(h.regressions[0]).toBeDefined();
    expect(h.regressions[0]!.across).toBe('run');
    const fixed = judgeHistory([obs('6.1', 'pass', 't1'), obs('6.1', 'fail', 't2'), obs('6.1', 'pass', 't3')]);
    expect(fixed.perKernel[0]).toMatchObject({ status: 'pass', regression: false });
  });

  it('does not call a failure that never passed a regression, and looks past errors', () => {
    expect(judgeHistory([obs('6.1', 'fail', 't1'), obs('6.2', 'fail', 't2')]).regressions).toEqual([]);
    const h = judgeHistory([obs('6.1', 'pass', 't1'), obs('6.2', 'error', 't2'), obs('6.3', 'fail', 't3')]);
    expect(h.perKernel[2]).toBeDefined();
    expect(h.perKernel[2]!.regression).toBe(true);
  });
});

describe('claims', () => {
  const snap = featureSnapshot({
    'tx-checksum-ipv4': true,
    'tx-checksum-ipv6': false,
    'tx-checksum-ip-generic': false,
    'rx-checksumming': false,
    'scatter-gather': true,
  });
  it('reads the features each family depends on', () => {
    expect(claimed('tx-csum/ipv4-udp', snap)).toBe(true);
    expect(claimed('tx-csum/ipv6-udp', snap)).toBe(false);
    expect(claimed('tx-csum/generic', snap)).toBe(false);
    expect(claimed('rx-csum/ipv4-udp-bad', snap)).toBe(false);
    expect(claimed('zc/sendfile-page', snap)).toBe(true);
    expect(claimed('frag/ipv4-overlap', snap)).toBeNull();
    expect(claimed('tx-csum/ipv4-udp', {})).toBeNull();
  });
});

describe('aggregate', () => {
  it('builds device × check cells with the headline on the newest kernel', () => {
    const old = runRecord([e1000Target([result('tx-csum/ipv4-tcp', 'pass')], { kernel: '6.1.0' })]);
    const cur = runRecord([
      e1000Target([result('tx-csum/ipv4-tcp', 'fail', 'offload-on', 'bad sum'), result('tx-csum/ipv4-tcp', 'pass', 'offload-off')], {
        kernel: '6.12.0',
      }),
      vethTarget([result('zc/sendfile-0', 'pass')]),
    ]);
    const m = aggregate([cur, old]);
    const e1000 = m.devices.find((d) => d.driver === 'e1000')!;
    const cell = m.cells[e1000.key]!['tx-csum/ipv4-tcp']!;
    expect(cell).toMatchObject({ status: 'fail', kernel: '6.12.0', regressed: true, claimed: true, claimedButFailed: true });
    expect(cell.history.map((o) => o.kernel)).toEqual(['6.1.0', '6.12.0']);
    expect(cell.history[1]!.variants.map((v) => v.status)).toEqual(['fail', 'pass']);
    expect(m.checks).toEqual(['tx-csum/ipv4-tcp', 'zc/sendfile-0']);
    expect(m.families.map((f) => f.name)).toEqual(['tx-csum', 'zc']);
    expect(m.kernels).toEqual(['6.1.0', '6.12.0', '6.18.0']);
    expect(m.runs.map((r) => r.id)).toEqual([old.id, cur.id]);
    expect(m.runs[1]!.counts).toEqual({ pass: 2, fail: 1, unsupported: 0, skip: 0, error: 0 });
  });

  it('keeps the seed devices nobody ran as "not yet tested" rows', () => {
    const m = aggregate([vethRun()]);
    const untested = m.devices.filter((d) => d.untested).map((d) => d.driver);
    expect(untested).toEqual(['3c59x', 'acenic', 'sunhme', 'skge/sk98lin']);
    const withSunhme = aggregate([
      runRecord([vethTarget([result('tx-csum/generic', 'pass')], { driver: { name: 'sunhme', version: '', firmware: '', bus: '' } })]),
    ]);
    expect(withSunhme.devices.filter((d) => d.untested).map((d) => d.driver)).not.toContain('sunhme');
  });

  it('records target setup errors on the device', () => {
    const rec = runRecord([
      e1000Target([result('tx-csum/ipv4-tcp', 'error', 'offload-on', 'guest did not boot')], {
        setupError: { code: 'GUEST', message: 'no login prompt' },
      }),
    ]);
    const row = aggregate([rec]).devices[0];
    expect(row).toBeDefined();
    expect(row!.setupErrors).toEqual([{ runId: rec.id, kernel: '6.18.0', code: 'GUEST', message: 'no login prompt' }]);
  });

  it('aggregates a synthetic store with the injected regressions flagged', () => {
    const m = aggregate(syntheticRuns({ devices: 12, checks: 20, kernels: 5, devicesPerRun: 4 }));
    expect(m.devices.filter((d) => !d.untested)).toHaveLength(12);
    expect(m.checks).toHaveLength(20);
    expect(m.kernels).toHaveLength(5);
    const cells = Object.values(m.cells).flatMap((c) => Object.values(c));
    expect(cells).toHaveLength(240);
    expect(cells.every((c) => c.perKernel.length === 5)).toBe(true);
    const regressed = cells.filter((x) => x.regressed);
    expect(regressed.length).toBeGreaterThan(0);
    for (const c of regressed) expect(c.status).toBe('fail');
  });
});
