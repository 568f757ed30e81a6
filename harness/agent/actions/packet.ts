/** Agent action packet.send: whole frames out of an interface through AF_PACKET. */
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { NicmatrixError } from '../../errors.js';
import { PacketSocket } from '../../sys/packet.js';
import { defineAction } from '../registry.js';

const YIELD_EVERY = 64;

defineAction('packet.send', async ({ ifname, frames, vnet }) => {
  if (vnet && vnet.length !== frames.length) {
    throw new NicmatrixError('USAGE', `packet.send: expected one virtio_net_hdr per frame (${frames.length}), found ${vnet.length}`);
  }
  const sock = PacketSocket.open(ifname, { receive: false, vnetHdr: vnet !== undefined });
  let sent = 0;
  try {
    for (let i = 0; i < frames.length; i++) {
      await sock.send(Buffer.from(frames[i], 'base64'), vnet?.[i]);
      // Long bursts yield now and then: the controller's pings must still be answered.
      if (++sent % YIELD_EVERY === 0) await yieldLoop();
    }
  } finally {
    sock.close();
  }
  return { sent };
});
