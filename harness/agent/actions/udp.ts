/** Agent action udp.send: datagrams through an ordinary kernel UDP socket (libc, for SO_NO_CHECK and IP options). */
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { UdpSocket } from '../../sys/inet.js';
import { defineAction } from '../registry.js';

const YIELD_EVERY = 64;

defineAction('udp.send', async ({ family, src, dst, sport, dport, payloads, noChecksum, ipOptions, ipv6DstOpts }) => {
  const sock = UdpSocket.open(family, {
    src,
    sport,
    noChecksum,
    ipOptions: ipOptions === undefined ? undefined : Buffer.from(ipOptions, 'base64'),
    ipv6DstOpts: ipv6DstOpts === undefined ? undefined : Buffer.from(ipv6DstOpts, 'base64'),
  });
  let sent = 0;
  try {
    for (const p of payloads) {
      await sock.sendTo(dst, dport, Buffer.from(p, 'base64'));
      // Long bursts yield now and then: the controller's pings must still be answered.
      if (++sent % YIELD_EVERY === 0) await yieldLoop();
    }
  } finally {
    sock.close();
  }
  return { sent };
});
