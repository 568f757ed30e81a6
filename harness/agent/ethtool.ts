/** Parsers for ethtool output (pure): `--json -k` where it answers, text where it does not. */
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
    return m ? m[1].trim() : '';
  };
  return { name: get('driver'), version: get('version'), firmware: get('firmware-version'), bus: get('bus-info') };
}

/** Parses `ethtool -S IF` text into counters; non-numeric lines are skipped. */
export function parseStats(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^\s+([^:]+):\s+(-?\d+)\s*$/.exec(line);
    if (m) out[m[1].trim()] = Number(m[2]);
  }
  return out;
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

/** Flattens `nstat --json` ({"kernel": {...}}) into one counter map. */
export function parseNstatJson(text: string): Record<string, number> {
  const data = JSON.parse(text) as Record<string, Record<string, number>>;
  const out: Record<string, number> = {};
  for (const group of Object.values(data)) for (const [k, v] of Object.entries(group)) out[k] = Number(v);
  return out;
}

/** `ip -s -s -json link show dev X` → flat counters (`rx_dropped`, `rx_over_errors`, `tx_fifo_errors`…). */
export function parseLinkStatsJson(text: string): Record<string, number> {
  const [link] = JSON.parse(text) as { stats64?: Record<string, Record<string, unknown>> }[];
  const out: Record<string, number> = {};
  for (const dir of ['rx', 'tx'] as const) {
    for (const [k, v] of Object.entries(link?.stats64?.[dir] ?? {})) if (typeof v === 'number') out[`${dir}_${k}`] = v;
  }
  return out;
}

/** The link speed `ethtool IF` reports, in Mb/s; null when the driver reports none ("Unknown!", or no line). */
export function parseSpeed(text: string): number | null {
  const m = /^\s*Speed:\s*(\d+)\s*Mb\/s\s*$/m.exec(text);
  return m ? Number(m[1]) : null;
}
