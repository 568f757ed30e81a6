/** Agent action udp.send: datagrams through an ordinary kernel UDP socket (libc, for SO_NO_CHECK and IP options). */
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { NicmatrixError } from '../../codec/errors.js';
import { UdpSocket } from '../../sys/inet.js';
import { datagramWireBits, Pacer } from '../pace.js';
import { defineAction } from '../registry.js';

const YIELD_EVERY = 64;

defineAction('udp.send', async ({ family, src, dst, sport, dport, payloads, noChecksum, ipOptions, ipv6DstOpts, rateMbps }) => {
  if (rateMbps !== undefined && !(rateMbps > 0))
    throw new NicmatrixError('USAGE', `udp.send: expected a positive rateMbps, found ${rateMbps}`);
  const pacer = new Pacer(rateMbps);
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
      const data = Buffer.from(p, 'base64');
      await pacer.before(datagramWireBits(data.length, family));
      await sock.sendTo(dst, dport, data);
      // Long bursts yield now and then: the controller's pings must still be answered.
      if (++sent % YIELD_EVERY === 0) await yieldLoop();
    }
  } finally {
    sock.close();
  }
  return { sent };
});
