/** Choosing checks and deriving seeds (pure). */
import type { Check } from '../checks/types.js';

/** Shell-style glob to a whole-string regex: `*` any run of characters, `?` one. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** The checks matching any of `globs` (all checks when none), in registry order. */
export function selectChecks(all: readonly Check[], globs: readonly string[]): { checks: Check[]; unmatched: string[] } {
  if (globs.length === 0) return { checks: [...all], unmatched: [] };
  const res = globs.map((g) => ({ g, re: globToRegExp(g), hit: false }));
  const checks = all.filter((c) => {
    let any = false;
    for (const r of res) {
      if (r.re.test(c.id) || r.re.test(c.family)) {
        r.hit = true;
        any = true;
      }
    }
    return any;
  });
  return { checks, unmatched: res.filter((r) => !r.hit).map((r) => r.g) };
}

/** FNV-1a over the parts: a stable 32-bit seed per run seed × target × check × variant. */
export function deriveSeed(runSeed: number, ...parts: string[]): number {
  let h = 0x811c9dc5 ^ (runSeed >>> 0);
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) {
      h ^= p.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    h = Math.imul(h ^ 0xff, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
