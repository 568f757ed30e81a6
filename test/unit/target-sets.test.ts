import { describe, expect, it } from 'vitest';
import { QEMU_MODELS } from '../../drivers/qemu/catalogue.js';
import { TARGET_SETS, targetSet } from '../../drivers/target-sets.js';

describe('target sets', () => {
  it('seed runs every catalogued chip of the founding families, eepro100 ones included', () => {
    const seed = targetSet('seed');
    const eepro100 = QEMU_MODELS.filter((m) => m.driver === 'e100').map((m) => `qemu:${m.model}`);
    expect(eepro100).toHaveLength(13);
    expect(seed).toEqual(expect.arrayContaining(eepro100));
    expect(seed).toContain('qemu:sunhme');
    expect(seed).not.toContain('qemu:e1000');
    expect(new Set(seed).size).toBe(seed.length);
  });

  it('an unknown set is a usage error naming the known ones', () => {
    expect(() => targetSet('nope')).toThrow(/--target-set nope: no such set; known: seed/);
    expect(TARGET_SETS.every((s) => s.description.length > 20)).toBe(true);
  });
});
