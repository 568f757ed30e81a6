import { describe, expect, it } from 'vitest';
import { QEMU_MODELS } from '../../drivers/qemu/catalogue.js';
import { DEFAULT_MODELS, DEFAULT_TARGETS } from '../../harness/run/defaults.js';

describe('the default matrix', () => {
  it('is lo, veth and the twelve x86 models, each in the catalogue', () => {
    expect(DEFAULT_TARGETS).toHaveLength(14);
    for (const m of DEFAULT_MODELS) expect(QEMU_MODELS.map((q) => q.model)).toContain(m);
  });
  it('leaves the sparc64 guest to --target-set seed', () => {
    expect(DEFAULT_TARGETS).not.toContain('qemu:sunhme');
  });
});
