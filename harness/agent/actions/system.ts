/** Agent actions that ask the system tools: ethtool, nstat, ip. */
import fs from 'node:fs/promises';
import os from 'node:os';
import { interfaceName, linkCounters, linkSpeed, readOr } from '../counters.js';
import { parseDriverInfo, parseFeaturesJson } from '../ethtool.js';
import { PROC_COUNTER_FILES, parseNameValue, parseSnmpTable } from '../proc-counters.js';
import { driverStats } from '../../sys/ethtool-stats.js';
import { NicmatrixError } from '../../codec/errors.js';
import { run, runJson } from '../../sys/exec.js';
import type { IfInfo } from '../protocol.js';
import { callSignal, defineAction } from '../registry.js';
import { pause } from '../../sys/socket.js';

defineAction('agent.ping', async () => ({ pid: process.pid, kernel: os.release() }));

defineAction('link.info', async ({ ifname }) => {
  type IpAddr = {
    ifname: string;
    ifindex: number;
    address: string;
    mtu: number;
    operstate: string;
    addr_info: { family: string; local: string; prefixlen: number }[];
  };
  const [info] = await runJson<IpAddr[]>('ip', ['-json', 'addr', 'show', 'dev', ifname]);
  if (!info) throw new NicmatrixError('TARGET_SETUP', `link.info: interface ${ifname} not found`);
  const result: IfInfo = {
    ifname: info.ifname,
    ifindex: info.ifindex,
    mac: info.address,
    mtu: info.mtu,
    operstate: info.operstate,
    addresses: info.addr_info.map((a) => ({ family: a.family === 'inet6' ? 6 : 4, local: a.local, prefixlen: a.prefixlen })),
  };
  return result;
});

defineAction('ethtool.features', async ({ ifname }) => parseFeaturesJson((await run('ethtool', ['--json', '-k', ifname])).stdout));

defineAction('ethtool.setFeatures', async ({ ifname, features }) => {
  const args = Object.entries(features).flatMap(([k, v]) => [k, v ? 'on' : 'off']);
  // ethtool exits non-zero when a [fixed] feature cannot change; the snapshot after tells what took.
  if (args.length > 0) await run('ethtool', ['-K', ifname, ...args], { reject: false });
  return parseFeaturesJson((await run('ethtool', ['--json', '-k', ifname])).stdout);
});

defineAction('ethtool.driver', async ({ ifname }) => parseDriverInfo((await run('ethtool', ['-i', ifname])).stdout));

// Counters are read on every variant: ioctls and files, not a process each (~0.1 s apiece in a TCG guest).
defineAction('ethtool.stats', async ({ ifname }) => driverStats(ifname));

defineAction('link.stats', async ({ ifname, speed }) => ({
  counters: await linkCounters('link.stats', ifname),
  speedMbps: speed ? await linkSpeed('link.stats', ifname) : null,
}));

defineAction('nstat.read', async () => {
  const out: Record<string, number> = {};
  for (const f of PROC_COUNTER_FILES) {
    const text = await readOr(f.path);
    if (f.layout === 'table') parseSnmpTable(text, out);
    else parseNameValue(text, out);
  }
  return out;
});

/** How often link.wait reads the interface's state (a file read: cheap even in a TCG guest). */
const LINK_POLL_MS = 25;

defineAction('link.wait', async ({ ifname, timeoutMs }) => {
  const file = `/sys/class/net/${interfaceName('link.wait', ifname)}/operstate`;
  const start = Date.now();
  const signal = callSignal();
  for (;;) {
    const operstate = (await fs.readFile(file, 'utf8')).trim().toUpperCase();
    // Loopback and some virtual devices report UNKNOWN while fully working.
    const up = operstate === 'UP' || operstate === 'UNKNOWN';
    if (up || Date.now() - start >= timeoutMs || signal.aborted) return { up, operstate, waitedMs: Date.now() - start };
    await pause(LINK_POLL_MS, signal);
  }
});

defineAction('link.reup', async ({ ifname }) => {
  // Down then up: the driver re-initialises its rings, what a user does first when a port stops passing traffic.
  await run('ip', ['link', 'set', 'dev', ifname, 'down']);
  await run('ip', ['link', 'set', 'dev', ifname, 'up']);
  return {};
});
