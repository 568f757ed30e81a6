/** Agent action udp.send: datagrams through an ordinary kernel UDP socket (libc, for SO_NO_CHECK and IP options). */
import { UdpSocket } from '../../sys/inet.js';
import { defineAction } from '../registry.js';

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
      sent++;
    }
  } finally {
    sock.close();
  }
  return { sent };
});
