/** What the system tools print (ethtool -S, nstat, ip -s link, ethtool IF), parsed: the reference the agent's own readings are held to. */

/** Parses `ethtool -S IF` text into counters; non-numeric lines are skipped. */
export function parseStats(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^\s+([^:]+):\s+(-?\d+)\s*$/.exec(line);
    if (m) out[m[1]!.trim()] = Number(m[2]);
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
