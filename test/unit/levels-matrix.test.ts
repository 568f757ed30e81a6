import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aggregate } from '../../matrix/aggregate.js';
import { findingOf } from '../../matrix/findings.js';
import { shippedProfile } from '../../matrix/profile.js';
import { judgeTarget } from '../../matrix/qualify.js';
import type { FeatureSnapshot, RunRecord, TargetRecord } from '../../matrix/record.js';
import { siteReporter } from '../../reports/site/index.js';

/** A real `qemu:e1000` run of tx-csum/* and rx-csum/* (QEMU 7.2, TCG, guest 6.1.0-57), counters and unrelated features trimmed. */
const E1000: RunRecord = JSON.parse(readFileSync(resolve(import.meta.dirname, '../fixtures/qemu-e1000-csum.run.json'), 'utf8'));

/**
 * A device with no TX checksum offload (tx-checksumming [fixed] off), in the shape the
 * runner records it: the offload-on variant cannot select the hardware path, its software
 * fallback is verified and it reads `unsupported`.
 */
function withoutTxOffload(base: TargetRecord, model: string, driver: string, description: string): TargetRecord {
  const off = (f: FeatureSnapshot | undefined): FeatureSnapshot => {
    const out: FeatureSnapshot = { ...f };
    for (const n of ['tx-checksumming', 'tx-checksum-ip-generic', 'tx-checksum-ipv4', 'tx-checksum-ipv6'])
      out[n] = { active: false, fixed: true, requested: false };
    return out;
  };
  return {
    ...base,
    spec: `qemu:${model}`,
    device: { model, description },
    driver: { ...base.driver, name: driver },
    features: off(base.features),
    results: base.results
      .filter((r) => r.check.startsWith('tx-csum/') && !(r.check === 'tx-csum/generic' && r.status === 'fail'))
      .map((r) =>
        r.variant === 'offload-on'
          ? {
              ...r,
              status: 'unsupported',
              message: `tx-checksumming stays off [fixed]; software fallback verified: ${r.message}`,
              evidence: { ...r.evidence, features: off(r.evidence.features), unmetFeatures: ['tx-checksumming stays off [fixed]'] },
            }
          : { ...r, evidence: { ...r.evidence, features: off(r.evidence.features) } },
      ),
  };
}

const e1000 = E1000.targets[0]!;
const record: RunRecord = {
  ...E1000,
  targets: [
    e1000,
    withoutTxOffload(e1000, 'ne2k_pci', 'ne2k-pci', 'Realtek RTL8029 (QEMU ne2k_pci)'),
    withoutTxOffload(e1000, 'pcnet', 'pcnet32', 'AMD PCnet-PCI II (QEMU pcnet)'),
    withoutTxOffload(e1000, 'tulip', 'tulip', 'DEC 21143 Tulip (QEMU tulip)'),
    withoutTxOffload(e1000, 'i82559er', 'e100', 'Intel 82559ER (QEMU i82559er)'),
  ],
};

describe('levels on default-matrix data', () => {
  const m = aggregate([record]);
  const cellsOf = (model: string) => m.cells[m.devices.find((d) => d.model === model)!.key]!;

  it('devices without TX checksum offload read software in every TX checksum cell', () => {
    for (const model of ['ne2k_pci', 'pcnet', 'tulip', 'i82559er']) {
      const tx = Object.values(cellsOf(model)).filter((c) => c.check.startsWith('tx-csum/'));
      expect(tx.length, model).toBeGreaterThanOrEqual(9);
      for (const c of tx) expect([c.check, c.level], model).toEqual([c.check, 'software']);
      expect(cellsOf(model)['tx-csum/ipv6-udp']!.note).toBe('offload-on: tx-checksumming stays off [fixed]; software path verified');
    }
  });

  it('e1000: IPv4 cells offloaded, generic broken with the one-line finding, RX software (QEMU marks nothing valid)', () => {
    const c = cellsOf('e1000');
    for (const id of ['tx-csum/ipv4-udp', 'tx-csum/ipv4-tcp', 'tx-csum/ipv6-udp', 'tx-csum/ipv6-tcp', 'tx-csum/ipv4-options'])
      expect([id, c[id]!.level]).toEqual([id, 'offloaded']);
    expect(c['tx-csum/ipv4-udp']!.note).toBe(
      'offload-on: tx-checksum-ip-generic on; frames left the device with complete, correct checksums',
    );
    expect(c['tx-csum/udp-nocsum']!.level).toBe('software');
    expect(c['tx-csum/generic']!.level).toBe('broken');
    expect(c['tx-csum/generic']!.note).toMatch(/^offload-on: arbitrary csum_start\/csum_offset .*: 15 of 100 frames with a wrong checksum/);
    expect(c['tx-csum/generic']!.note).not.toContain('\n');
    const failed = c['tx-csum/generic']!.history[0]!.variants.find((v) => v.status === 'fail')!;
    expect(findingOf('tx-csum/generic', failed)).toMatch(
      /^The device writes the checksum at its offset modulo 256 when csum_start is above 255 — an 8-bit field truncated: for csum_start \d+ \+ csum_offset \d+ it wrote byte \d+ instead of \d+ \(15 of 100 frames\)/,
    );
    expect(c['rx-csum/ipv4-udp']).toMatchObject({ level: 'software' });
    expect(c['rx-csum/ipv4-udp']!.note).toContain('marked 0 of 100 good frames valid');
  });

  it('the qualification report agrees with the matrix for every device', () => {
    const offload = shippedProfile('offload')!;
    for (const t of record.targets) {
      const d = m.devices.find((x) => x.model === t.device.model)!;
      const q = judgeTarget(offload, t, m.checks);
      const fromMatrix = Object.fromEntries(Object.values(m.cells[d.key]!).map((c) => [c.check, c.level]));
      expect(Object.fromEntries(q.levels.map((l) => [l.check, l.level])), t.spec).toEqual(fromMatrix);
      // Offload is qualified exactly when the matrix shows the IPv4 and IPv6 TX cells offloaded.
      const tx = ['tx-csum/ipv4-udp', 'tx-csum/ipv4-tcp', 'tx-csum/ipv6-udp', 'tx-csum/ipv6-tcp'];
      const txReqs = q.requirements.filter((r) => r.id.startsWith('tx-offload-'));
      expect(
        txReqs.every((r) => r.verdict === 'met'),
        t.spec,
      ).toBe(tx.every((c) => fromMatrix[c] === 'offloaded'));
      for (const r of txReqs) if (r.verdict === 'not-met') expect(r.why, t.spec).toContain('unsupported');
    }
  });

  it('the site shows the levels and leads the broken cell with the finding', () => {
    const files = siteReporter.render({ runs: [record], matrix: m, generatedAt: '2026-01-01T00:00:00Z', source: 'test' });
    const e1000Row = m.devices.find((d) => d.model === 'e1000')!;
    // The device's cells page, the tx-csum/generic section of it.
    const page = files.get(`c/${e1000Row.slug}.html`) as string;
    const start = page.indexOf('<section class="cell" id="tx-csum/generic"');
    expect(start).toBeGreaterThan(0);
    const cell = page.slice(start, page.indexOf('</section>', start));
    expect(cell).toContain('<p class="finding">The device writes the checksum at its offset modulo 256');
    expect(cell).toContain('nicmatrix run --target qemu:e1000 --checks tx-csum/generic --seed 1739407766');
    expect(cell).toMatch(/<mark title="byte \d+ differs from the frame sent">/);
    const index = files.get('index.html') as string;
    expect(index.match(/<td class="v v-software /g)!.length).toBeGreaterThanOrEqual(4 * 9);
    expect(index).toContain('<b>offloaded</b>');
  });
});
