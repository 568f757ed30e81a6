/**
 * Agent action udp.gsoSend: UDP segmentation offload from an ordinary socket.
 * Each send hands the kernel one buffer with UDP_SEGMENT set; the stack (or
 * the device) cuts it into datagrams of gsoSize bytes, the last one shorter.
 */
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { UdpSocket } from '../../sys/inet.js';
import { defineAction } from '../registry.js';
import { streamBytes } from './tcp-stream.js';

/** include/uapi/linux/udp.h */
const SOL_UDP = 17;
const UDP_SEGMENT = 103;

declare module '../protocol.js' {
  interface ActionMap {
    /** Sends `sends` (bytes cut into gsoSize datagrams), taken in order from one seeded byte stream. */
    'udp.gsoSend': {
      params: {
        family: 4 | 6;
        src?: string;
        dst: string;
        sport: number;
        dport: number;
        seed: number;
        /** Where in the seeded stream the first send starts (default 0). */
        offset?: number;
        sends: { bytes: number; gsoSize: number }[];
      };
      result: { sent: number; bytes: number };
    };
  }
}

defineAction('udp.gsoSend', async ({ family, src, dst, sport, dport, seed, offset = 0, sends }) => {
  const data = streamBytes(seed, offset + sends.reduce((a, s) => a + s.bytes, 0)).subarray(offset);
  const sock = UdpSocket.open(family, { src, sport });
  let off = 0;
  let sent = 0;
  try {
    for (const s of sends) {
      sock.sock.setInt(SOL_UDP, UDP_SEGMENT, s.gsoSize, `UDP_SEGMENT ${s.gsoSize}`);
      sent += await sock.sendTo(dst, dport, data.subarray(off, off + s.bytes));
      off += s.bytes;
      await yieldLoop();
    }
  } finally {
    sock.close();
  }
  return { sent: sends.length, bytes: sent };
});
