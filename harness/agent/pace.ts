/** Pacing of the agent's sends to a link rate: a cable never delivers faster than its speed, so a sender must not either. */
import { sleep } from '../sys/socket.js';

/** Ahead of the schedule by this much (ms), the sender sleeps: timers are no finer. */
const SLACK_MS = 1;

/** Bits a frame occupies on an Ethernet wire: padded to 60 bytes, plus FCS, preamble and inter-frame gap. */
export function wireBits(len: number): number {
  return (Math.max(len, 60) + 4 + 8 + 12) * 8;
}

/** Bits a UDP datagram of `payload` bytes occupies on an Ethernet wire of MTU 1500, fragments' headers included (an estimate for pacing). */
export function datagramWireBits(payload: number, family: 4 | 6): number {
  const ipHdr = family === 4 ? 20 : 48;
  const data = payload + 8;
  const perFrag = Math.floor((1500 - ipHdr) / 8) * 8;
  const frags = Math.max(1, Math.ceil(data / perFrag));
  return data * 8 + frags * wireBits(14 + ipHdr);
}

/** Waits before each send so that `rateMbps` is not exceeded (no wait without a rate). */
export class Pacer {
  private readonly start = performance.now();
  private bits = 0;

  constructor(private readonly rateMbps: number | undefined) {}

  /** Call before sending something of `bits` wire bits. */
  async before(bits: number): Promise<void> {
    if (this.rateMbps !== undefined) {
      // 1 Mb/s is 1000 bits per ms: this send may start once the ones before it had their wire time.
      const ahead = this.start + this.bits / (this.rateMbps * 1000) - performance.now();
      if (ahead >= SLACK_MS) await sleep(ahead);
    }
    this.bits += bits;
  }
}
