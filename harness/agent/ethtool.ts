/** Parsers (pure): `ethtool --json -k` and `-i` output, counter deltas, and the sysfs link counters as `ip -s -s -json link` names them. */
import { NicmatrixError } from '../../matrix/errors.js';
import type { DriverInfo, FeatureSnapshot, FeatureState } from '../../matrix/record.js';

/** Parses `ethtool --json -k IF` (an array with one object per interface). */
export function parseFeaturesJson(text: string, source = 'ethtool --json -k'): FeatureSnapshot {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new NicmatrixError('COMMAND_FAILED', `${source}: expected JSON, found ${JSON.stringify(text.slice(0, 60))}`, {
      details: { source },
    });
  }
  const obj = Array.isArray(data) ? data[0] : data;
  if (!obj || typeof obj !== 'object')
    throw new NicmatrixError('COMMAND_FAILED', `${source}: expected an array with one interface object`, { details: { source } });
  const out: FeatureSnapshot = {};
  for (const [name, v] of Object.entries(obj as Record<string, unknown>)) {
    if (!v || typeof v !== 'object' || !('active' in v)) continue;
    const s = v as Partial<FeatureState>;
    out[name] = { active: Boolean(s.active), fixed: s.fixed ?? null, requested: s.requested ?? null };
  }
  return out;
}

/** Parses `ethtool -i IF` text (no JSON form in ethtool 6.1). */
export function parseDriverInfo(text: string): DriverInfo {
  const get = (key: string) => {
    const m = new RegExp(`^${key}:[ \\t]*(.*)$`, 'm').exec(text);
    return m ? m[1]!.trim() : '';
  };
  return { name: get('driver'), version: get('version'), firmware: get('firmware-version'), bus: get('bus-info') };
}

/** Counter deltas `after - before` for keys present in both, dropping zeros. */
export function counterDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

/** sysfs names that `ip -s link` files under a direction of its own. */
const SYSFS_RENAMED: Readonly<Record<string, string>> = {
  multicast: 'rx_multicast',
  collisions: 'tx_collisions',
  carrier_changes: 'tx_carrier_changes',
};

/** Counters `ip -s -s` prints only when they are not zero. */
const SHOWN_WHEN_NONZERO = new Set(['rx_compressed', 'tx_compressed', 'rx_nohandler']);

/**
 * /sys/class/net/IF/statistics/* (and carrier_changes), file name → text, as
 * the counters `ip -s -s -json link` gives (`rx_dropped`, `tx_collisions`…).
 */
export function linkStatsFromSysfs(files: Readonly<Record<string, string>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, text] of Object.entries(files)) {
    const key = SYSFS_RENAMED[name] ?? name;
    const value = Number(text.trim());
    if (!/^(rx|tx)_/.test(key) || !/^\d+$/.test(text.trim()) || (value === 0 && SHOWN_WHEN_NONZERO.has(key))) continue;
    out[key] = value;
  }
  return out;
}

/** /sys/class/net/IF/speed in Mb/s; null when the driver reports none (empty: EINVAL, or -1: unknown). */
export function parseSysfsSpeed(text: string): number | null {
  const n = Number(text.trim());
  return text.trim() !== '' && Number.isInteger(n) && n > 0 ? n : null;
}
