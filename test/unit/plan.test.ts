import { describe, expect, it } from 'vitest';
import type { Check } from '../../harness/checks/types.js';
import { restoreSettings, unmetFeatures } from '../../harness/run/features.js';
import { attemptSeed, deriveSeed, featureKey, globToRegExp, groupByFeatures, selectChecks } from '../../harness/run/plan.js';

const check = (id: string): Check => ({
  id,
  family: id.split('/')[0]!,
  title: id,
  definition: id,
  proves: id,
  variants: () => [],
  run: async () => ({ status: 'pass', message: '', evidence: {} }),
});
const all = ['tx-csum/ipv4-udp', 'tx-csum/ipv6-udp', 'rx-csum/ipv4-udp', 'zc/sendfile'].map(check);

describe('check selection', () => {
  it('matches globs and families, keeps registry order, reports unmatched globs', () => {
    expect(globToRegExp('tx-csum/*').test('tx-csum/ipv4-udp')).toBe(true);
    expect(globToRegExp('tx-csum/*').test('rx-csum/ipv4-udp')).toBe(false);
    expect(selectChecks(all, ['*/ipv4-udp']).checks.map((c) => c.id)).toEqual(['tx-csum/ipv4-udp', 'rx-csum/ipv4-udp']);
    expect(selectChecks(all, ['zc']).checks.map((c) => c.id)).toEqual(['zc/sendfile']);
    expect(selectChecks(all, []).checks).toHaveLength(4);
    expect(selectChecks(all, ['tx-csum/*', 'nope/*']).unmatched).toEqual(['nope/*']);
  });

  it('takes a comma-separated list as several globs', () => {
    expect(selectChecks(all, ['zc/sendfile,rx-csum/*']).checks.map((c) => c.id)).toEqual(['rx-csum/ipv4-udp', 'zc/sendfile']);
    expect(selectChecks(all, ['zc/sendfile, nope,']).unmatched).toEqual(['nope']);
  });

  it('derives stable, distinct seeds', () => {
    expect(deriveSeed(1, 'veth', 'a', 'on')).toBe(deriveSeed(1, 'veth', 'a', 'on'));
    expect(deriveSeed(1, 'veth', 'a', 'on')).not.toBe(deriveSeed(2, 'veth', 'a', 'on'));
    // The first attempt keeps the variant's seed; each repeat gets its own, the same on every run.
    const seed = deriveSeed(1, 'veth', 'a', 'on');
    expect(attemptSeed(seed, 0)).toBe(seed);
    expect(new Set([0, 1, 2].map((k) => attemptSeed(seed, k))).size).toBe(3);
    expect(attemptSeed(seed, 2)).toBe(attemptSeed(seed, 2));
    expect(deriveSeed(1, 'veth', 'a', 'on')).not.toBe(deriveSeed(1, 'veth', 'a', 'off'));
    expect(deriveSeed(1, 'ab', 'c')).not.toBe(deriveSeed(1, 'a', 'bc'));
  });
});

describe('feature rules', () => {
  const snap = {
    'tx-checksumming': { active: true, fixed: null, requested: null },
    'tx-checksum-ip-generic': { active: true, fixed: true, requested: false },
    'scatter-gather': { active: false, fixed: false, requested: false },
  };
  it('names the features that did not take, and why', () => {
    expect(unmetFeatures({ 'tx-checksumming': false }, snap)).toEqual(['tx-checksumming stays on']);
    expect(unmetFeatures({ 'tx-checksum-ip-generic': false }, snap)).toEqual(['tx-checksum-ip-generic stays on [fixed]']);
    expect(unmetFeatures({ 'hw-tc-offload': true }, snap)).toEqual(['hw-tc-offload is not a feature of this device']);
    expect(unmetFeatures({ 'tx-checksumming': false }, snap, ['tx-checksumming'])).toEqual([]);
  });
  it('restores only what changed and can change', () => {
    const now = {
      ...snap,
      'scatter-gather': { active: true, fixed: false, requested: true },
      'tx-checksum-ip-generic': { active: false, fixed: true, requested: false },
    };
    expect(restoreSettings(snap, now)).toEqual({ 'scatter-gather': false });
  });
});

describe('stale netns sweep', () => {
  it('picks only harness netns whose controller is gone', async () => {
    const { staleNetns } = await import('../../drivers/sweep.js');
    const alive = (pid: number) => pid === 10;
    expect(staleNetns(['nm-10-1-dut', 'nm-11-2-peer', 'other-11-x', 'nm-x-1', 't-tx-11-a'], alive)).toEqual(['nm-11-2-peer']);
  });
});

describe('planning variants by feature set', () => {
  it('applies each distinct set once, the DUT as found first, every variant once with its record index', () => {
    const on: Record<string, boolean> = { 'tx-checksumming': true };
    const plan = groupByFeatures([
      {
        check: 'a',
        variants: [
          { name: 'on', features: on },
          { name: 'off', features: { 'tx-checksumming': false } },
        ],
      },
      { check: 'b', variants: [{ name: 'plain' }, { name: 'on', features: { ...on } }] },
      {
        check: 'c',
        variants: [
          { name: 'both', features: { sg: true, 'tx-checksumming': true } },
          { name: 'both2', features: { 'tx-checksumming': true, sg: true } },
        ],
      },
    ]);
    expect(plan.map((g) => g.items.map((i) => `${i.index}:${i.check}/${i.variant.name}`))).toEqual([
      ['2:b/plain'],
      ['0:a/on', '3:b/on'],
      ['1:a/off'],
      ['4:c/both', '5:c/both2'],
    ]);
    expect(featureKey({ b: true, a: false })).toBe(featureKey({ a: false, b: true }));
    expect(groupByFeatures([])).toEqual([]);
  });
});
