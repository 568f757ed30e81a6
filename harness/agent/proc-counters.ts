/**
 * The kernel's SNMP and extended counters as `nstat --json -a -z -s` names
 * them, read from /proc/net instead of a process per reading (pure parsers;
 * the action reads the files). A TCG guest spends ~0.1 s starting one.
 */

/** nstat leaves these out: settings and gauges, not counters. */
const NOT_COUNTERS = new Set(['IpForwarding', 'IpDefaultTTL', 'TcpRtoAlgorithm', 'TcpRtoMin', 'TcpRtoMax', 'TcpMaxConn', 'TcpCurrEstab']);

function put(out: Record<string, number>, name: string, value: string): void {
  if (!NOT_COUNTERS.has(name) && /^-?\d+$/.test(value)) out[name] = Number(value);
}

/** "Prefix: Name1 Name2" then "Prefix: v1 v2" line pairs (/proc/net/snmp, /proc/net/netstat): names Prefix+Name. */
export function parseSnmpTable(text: string, out: Record<string, number> = {}): Record<string, number> {
  const lines = text.split('\n').filter((l) => l.includes(':'));
  for (let i = 0; i + 1 < lines.length; i += 2) {
    // Every line kept holds a colon: split gives at least two parts.
    const [prefix, names = ''] = lines[i]!.split(':');
    const [vprefix, values = ''] = lines[i + 1]!.split(':');
    if (prefix !== vprefix) continue;
    const n = names.trim().split(/\s+/);
    const v = values.trim().split(/\s+/);
    n.forEach((name, k) => put(out, prefix + name, v[k] ?? ''));
  }
  return out;
}

/** "Name value" lines (/proc/net/snmp6, /proc/net/sctp/snmp). */
export function parseNameValue(text: string, out: Record<string, number> = {}): Record<string, number> {
  for (const line of text.split('\n')) {
    const [name, value] = line.trim().split(/\s+/);
    if (name && value !== undefined) put(out, name, value);
  }
  return out;
}

/** The files nstat reads, and how each is laid out. */
export const PROC_COUNTER_FILES: readonly { path: string; layout: 'table' | 'lines' }[] = [
  { path: '/proc/net/netstat', layout: 'table' },
  { path: '/proc/net/snmp', layout: 'table' },
  { path: '/proc/net/snmp6', layout: 'lines' },
  { path: '/proc/net/sctp/snmp', layout: 'lines' },
];
