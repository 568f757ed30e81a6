/** Agent actions zc.packetSockets (taps that force copies) and zc.linkDrops (where frames were dropped). */
import fs from 'node:fs';
import { ifIndex } from '../../sys/packet.js';
import { defineAction } from '../registry.js';

declare module '../protocol.js' {
  interface ActionMap {
    'zc.packetSockets': { params: { ifname: string }; result: { ifindex: number; text: string } };
  }
}

defineAction('zc.packetSockets', async ({ ifname }) => {
  // Without CONFIG_PACKET there are no packet sockets at all, so none can tap.
  const text = fs.existsSync('/proc/net/packet') ? fs.readFileSync('/proc/net/packet', 'utf8') : '';
  return { ifindex: ifIndex(ifname), text };
});

/** The interface counters that say where frames were dropped (/sys/class/net/IF/statistics). */
export const LINK_DROP_COUNTERS = [
  'tx_packets',
  'tx_dropped',
  'tx_errors',
  'rx_dropped',
  'rx_missed_errors',
  'rx_fifo_errors',
  'rx_errors',
] as const;

declare module '../protocol.js' {
  interface ActionMap {
    'zc.linkDrops': { params: { ifname: string }; result: Record<string, number> };
  }
}

defineAction('zc.linkDrops', async ({ ifname }) => {
  const out: Record<string, number> = {};
  for (const k of LINK_DROP_COUNTERS) {
    const file = `/sys/class/net/${ifname}/statistics/${k}`;
    // A driver that does not keep a counter simply has no file for it.
    if (fs.existsSync(file)) out[k] = Number(fs.readFileSync(file, 'utf8').trim());
  }
  const backlog = softnetDropped();
  if (backlog !== undefined) out.softnet_dropped = backlog;
  return out;
});

/**
 * Frames this host's CPUs dropped because their input backlog was full
 * (second column of /proc/net/softnet_stat, hex, one row per CPU): where a
 * veth or tap hands frames to the stack, that is where they go missing under load.
 */
function softnetDropped(): number | undefined {
  try {
    return fs
      .readFileSync('/proc/net/softnet_stat', 'utf8')
      .trim()
      .split('\n')
      .reduce((sum, row) => sum + parseInt(row.trim().split(/\s+/)[1] ?? '0', 16), 0);
  } catch {
    // No procfs (or an unusual kernel): the receiver's account simply lacks this counter.
    return undefined;
  }
}
