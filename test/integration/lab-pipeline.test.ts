/**
 * The whole lab pipeline, simulated here: the real workflow file is run job
 * by job with its own scripts (ci/lab/*.sh), veth, a cabled port pair and a
 * QEMU e1000 guest standing in for three lab machines, one of them broken.
 * Artifacts, the store cache and the Pages upload land in directories; the
 * published site is checked for every device.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { simulateWorkflow, type Simulation } from '../helpers/workflow-sim.js';
import type { RunRecord } from '../../matrix/record.js';
import { tmpDir } from '../helpers/cli.js';
import { corruptEgress } from '../helpers/faults.js';
import { makePortPair, type PortPair } from '../helpers/pair.js';

const root = path.resolve(import.meta.dirname, '../..');
let pair: PortPair | undefined;
afterAll(async () => {
  await pair?.remove();
});

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;

describe('lab pipeline (the workflow, simulated locally)', () => {
  it('plans a job per label, runs every machine, uploads the records, ingests them and publishes the site', async () => {
    pair = await makePortPair('lab');
    // The "ports" machine is broken: its DUT port zeroes IPv4 UDP checksums on the way out.
    await corruptEgress(pair.dutNs, pair.dutIf, ['ip protocol udp @th,48,16 set 0x1111']);
    const before = await pair.state();
    const work = tmpDir('labsim');
    const inventory = path.join(work, 'lab.json');
    fs.writeFileSync(
      inventory,
      JSON.stringify({
        schema: 'nicmatrix.lab/1',
        name: 'simulated lab',
        checks: ['tx-csum/ipv4-udp', 'tx-csum/ipv6-tcp'],
        machines: [
          { name: 'sim-veth', labels: ['veth'], targets: ['veth'] },
          { name: 'sim-ports', labels: ['ports'], ports: [{ dut: `${pair.dutNs}/${pair.dutIf}`, peer: `${pair.peerNs}/${pair.peerIf}` }] },
          { name: 'sim-qemu', labels: ['qemu'], targets: ['qemu:e1000'], checks: ['tx-csum/ipv4-udp'] },
        ],
      }),
    );
    const lines: string[] = [];
    const sim: Simulation = await simulateWorkflow(path.join(root, '.github/workflows/lab.yml'), {
      repoRoot: root,
      workdir: work,
      vars: { NICMATRIX_LAB: inventory },
      inputs: { checks: '' },
      prepared: ['npm ci'],
      log: (l) => lines.push(l),
    });
    const failures = sim.jobs.flatMap((j) =>
      j.steps.filter((s) => s.result === 'failure').map((s) => `${j.id} ${JSON.stringify(j.matrix)} ${s.name}: ${s.output?.slice(-3000)}`),
    );
    const byJob = sim.jobs.map((j) => `${j.id}${j.matrix ? ` ${String(j.matrix.label)}` : ''} ${j.result}`);
    // Only the broken machine's job fails; the others and the publishing still succeed.
    expect(byJob, failures.join('\n')).toEqual([
      'plan success',
      'lab veth success',
      'lab ports failure',
      'lab qemu success',
      'publish success',
    ]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain('exit 1');
    expect(sim.jobs[0]!.outputs.labels).toBe('["veth","ports","qemu"]');

    // One artifact per label, one record per machine, each saying which lab machine ran it.
    for (const [label, machine] of [
      ['veth', 'sim-veth'],
      ['ports', 'sim-ports'],
      ['qemu', 'sim-qemu'],
    ]) {
      const record = readJson<RunRecord>(path.join(sim.artifactsDir, `run-records-${label}`, `${machine}.json`));
      expect(record.targets.length).toBe(1);
      expect(record.targets[0]!.evidence.lab).toEqual({ inventory: 'simulated lab', file: inventory, machine, labels: [label] });
    }
    const ports = readJson<RunRecord>(path.join(sim.artifactsDir, 'run-records-ports', 'sim-ports.json'));
    expect(ports.targets[0]!.results.filter((r) => r.status === 'fail').map((r) => `${r.check} [${r.variant}]`)).toEqual([
      'tx-csum/ipv4-udp [offload-on]',
      'tx-csum/ipv4-udp [offload-off]',
    ]);
    expect(await pair.state()).toEqual(before);

    // The published site: every machine's device, the failure visible, KCIDB and JUnit beside it.
    expect(sim.pageUrl).toBe(`file://${sim.pagesDir}/index.html`);
    expect(fs.existsSync(path.join(sim.pagesDir, 'index.html'))).toBe(true);
    const matrix = readJson<{ devices: { key: string; kernels: string[] }[]; cells: { device: string; check: string; status: string }[] }>(
      path.join(sim.pagesDir, 'matrix.json'),
    );
    const tested = matrix.devices.filter((d) => d.kernels.length > 0).map((d) => d.key.split('|')[0]);
    expect(tested).toEqual(expect.arrayContaining(['veth:veth', 'qemu:e1000']));
    expect(tested).toHaveLength(3);
    expect(matrix.cells.filter((c) => c.status === 'fail').map((c) => c.check)).toEqual(['tx-csum/ipv4-udp']);
    const kcidb = readJson<{ tests: { path: string; status: string }[] }>(path.join(sim.pagesDir, 'kcidb.json'));
    expect(kcidb.tests.map((t) => t.path)).toContain('nic.e1000.tx_csum.ipv4_udp.offload_on');
    expect(kcidb.tests.filter((t) => t.status === 'FAIL')).toHaveLength(2);
    expect(fs.readFileSync(path.join(sim.pagesDir, 'junit.xml'), 'utf8')).toContain('<testsuites');
    // The store is cached for the next run's history.
    expect(fs.readdirSync(sim.cacheDir)).toHaveLength(1);
  });
});
