/**
 * An interface's counters as the agent reads them, without a process: the
 * driver's (`ethtool -S`, through SIOCETHTOOL) and the link's (sysfs, named
 * as `ip -s -s -json link` names them). Shared by `ethtool.stats`,
 * `link.stats` and a capture that ends when the DUT counted what it dropped.
 */
import fs from 'node:fs/promises';
import { NicmatrixError } from '../codec/errors.js';
import { driverStats } from '../sys/ethtool-stats.js';
import { linkStatsFromSysfs, parseSysfsSpeed } from './ethtool.js';

/** The name checked before it becomes a path under /sys/class/net. */
export function interfaceName(action: string, ifname: string): string {
  if (!/^[\w.:@-]+$/.test(ifname))
    throw new NicmatrixError('AGENT', `${action}: expected an interface name, found ${JSON.stringify(ifname)}`);
  return ifname;
}

/** A file's text, or '' when it cannot be read (a counter file the kernel lacks, a speed the driver cannot tell). */
export async function readOr(path: string): Promise<string> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch {
    return '';
  }
}

export async function linkCounters(action: string, ifname: string): Promise<Record<string, number>> {
  const dir = `/sys/class/net/${interfaceName(action, ifname)}`;
  const names = await fs.readdir(`${dir}/statistics`);
  const files = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await readOr(`${dir}/statistics/${n}`)] as const)));
  files.carrier_changes = await readOr(`${dir}/carrier_changes`);
  return linkStatsFromSysfs(files);
}

/** The link's speed in Mb/s; null when the driver reports none (lo, ne2k-pci: EINVAL or -1). */
export async function linkSpeed(action: string, ifname: string): Promise<number | null> {
  return parseSysfsSpeed(await readOr(`/sys/class/net/${interfaceName(action, ifname)}/speed`));
}

/** Driver counters as they are, link counters prefixed `link.`: the names the checks' loss accounting uses. */
export async function sideCounters(ifname: string): Promise<Record<string, number>> {
  const [driver, link] = await Promise.all([driverStats(ifname), linkCounters('capture.stop', ifname)]);
  return { ...driver, ...Object.fromEntries(Object.entries(link).map(([k, v]) => [`link.${k}`, v])) };
}
