/** Choosing checks and deriving seeds (pure). */
import type { Check, Variant } from '../checks/types.js';

/** Shell-style glob to a whole-string regex: `*` any run of characters, `?` one. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** The checks matching any of `globs` (all checks when none), in registry order. */
export function selectChecks(all: readonly Check[], given: readonly string[]): { checks: Check[]; unmatched: string[] } {
  // "--checks a,b" means "--checks a --checks b": no check id holds a comma.
  const globs = [...new Set(given.flatMap((g) => g.split(',')).map((g) => g.trim()))].filter((g) => g !== '');
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

/**
 * The seed of attempt `k` of a variant whose seed is `seed`: the first attempt keeps it (a run reproduces with --seed),
 * later ones get their own, so a repeat picks new ports instead of a 4-tuple its previous attempt left in TIME_WAIT.
 */
export function attemptSeed(seed: number, k: number): number {
  return k === 0 ? seed : deriveSeed(seed, `attempt ${k}`);
}

/** One check variant at its place in the record (check order, then variant order). */
export interface PlannedVariant<C = Check, V = Variant> {
  index: number;
  check: C;
  variant: V;
}

/** Variants that need the same DUT features: the set is applied once, the link waited for once. */
export interface FeatureGroup<C = Check, V = Variant> {
  /** The features to set (undefined: the DUT as found). */
  features?: Record<string, boolean>;
  items: PlannedVariant<C, V>[];
}

/** A stable key of a feature set: the same settings in any order are one group. */
export function featureKey(features: Record<string, boolean> | undefined): string {
  if (!features) return '';
  return JSON.stringify(Object.entries(features).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Groups every (check, variant) by the features it needs. The DUT as found
 * comes first (nothing changed yet); the other groups follow in the order
 * their first variant appears, and each keeps check order inside. Results go
 * back to `index`, so the record's order does not depend on the plan.
 */
export function groupByFeatures<C, V extends { features?: Record<string, boolean> }>(
  perCheck: readonly { check: C; variants: readonly V[] }[],
): FeatureGroup<C, V>[] {
  const groups = new Map<string, FeatureGroup<C, V>>();
  groups.set('', { items: [] });
  let index = 0;
  for (const { check, variants } of perCheck) {
    for (const variant of variants) {
      const key = featureKey(variant.features);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { features: variant.features, items: [] }));
      g.items.push({ index: index++, check, variant });
    }
  }
  return [...groups.values()].filter((g) => g.items.length > 0);
}
