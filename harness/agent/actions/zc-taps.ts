/** Agent action zc.packetSockets: the DUT's /proc/net/packet and its interface's index, to find taps that force copies. */
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
