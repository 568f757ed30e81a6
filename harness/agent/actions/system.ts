/** Agent actions that ask the system tools: ethtool, nstat, ip. */
import fs from 'node:fs/promises';
import os from 'node:os';
import { parseDriverInfo, parseFeaturesJson, parseLinkStatsJson, parseNstatJson, parseSpeed, parseStats } from '../ethtool.js';
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

defineAction('ethtool.stats', async ({ ifname }) => {
  const r = await run('ethtool', ['-S', ifname], { reject: false });
  // Drivers without statistics (lo) answer "no stats available": that is an empty set, not an error.
  return r.exitCode === 0 ? parseStats(r.stdout) : {};
});

defineAction('link.stats', async ({ ifname, speed }) => {
  const counters = parseLinkStatsJson((await run('ip', ['-s', '-s', '-json', 'link', 'show', 'dev', ifname])).stdout);
  // Drivers without link settings (lo, ne2k-pci) make ethtool fail or say "Unknown!": no speed, not an error.
  const speedMbps = speed ? parseSpeed((await run('ethtool', [ifname], { reject: false })).stdout) : null;
  return { counters, speedMbps };
});

defineAction('nstat.read', async () => parseNstatJson((await run('nstat', ['--json', '-a', '-z', '-s'])).stdout));

/** How often link.wait reads the interface's state (a file read: cheap even in a TCG guest). */
const LINK_POLL_MS = 25;

defineAction('link.wait', async ({ ifname, timeoutMs }) => {
  if (!/^[\w.:@-]+$/.test(ifname))
    throw new NicmatrixError('AGENT', `link.wait: expected an interface name, found ${JSON.stringify(ifname)}`);
  const file = `/sys/class/net/${ifname}/operstate`;
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
