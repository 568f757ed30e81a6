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
  return out;
});
