/** Applying a variant's features and judging whether they took (pure parts). */
import type { FeatureSnapshot } from '../../matrix/record.js';

/** Features of `wanted` whose active state differs from what was asked, with why. */
export function unmetFeatures(wanted: Record<string, boolean>, snapshot: FeatureSnapshot, optional: readonly string[] = []): string[] {
  const out: string[] = [];
  for (const [name, want] of Object.entries(wanted)) {
    if (optional.includes(name)) continue;
    const state = snapshot[name];
    if (!state) out.push(`${name} is not a feature of this device`);
    else if (state.active !== want) out.push(`${name} stays ${state.active ? 'on' : 'off'}${state.fixed ? ' [fixed]' : ''}`);
  }
  return out;
}

/** The `ethtool -K` settings that put every feature changed since `original` back. */
export function restoreSettings(original: FeatureSnapshot, now: FeatureSnapshot): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const [name, state] of Object.entries(original)) {
    if (state.fixed) continue;
    const cur = now[name];
    if (cur && cur.active !== state.active) out[name] = state.active;
  }
  return out;
}
