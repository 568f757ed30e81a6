/**
 * The UDP side of the MSG_ZEROCOPY oracle: a buffer of `size` pattern bytes
 * is sent as datagrams of `datagram` bytes (the last one shorter). Each
 * arrival must equal one of the next datagrams not seen yet (UDP may lose,
 * never alter); a gap is a loss, anything else is wrong bytes. Pure.
 */
import { fillFile, type FileLayout } from './pattern.js';
import type { Mismatch } from './verify.js';

/** How far past the next expected datagram an arrival may land (datagrams lost before it). */
export const LOOKAHEAD = 64;

export interface DatagramTally {
  received: number;
  matched: number;
  /** Datagrams skipped over by a later one that arrived. */
  lost: number;
  /** Arrivals that equal none of the datagrams they could be. */
  wrong: number;
  bytes: number;
  mismatch?: Mismatch;
}

export class DatagramMatcher {
  private next = 0;
  private readonly tally: DatagramTally = { received: 0, matched: 0, lost: 0, wrong: 0, bytes: 0 };
  private readonly count: number;

  constructor(
    readonly layout: FileLayout,
    readonly datagram: number,
  ) {
    this.count = Math.ceil(layout.size / datagram);
  }

  /** The bytes of datagram `k`. */
  expected(k: number): Buffer {
    const start = k * this.datagram;
    const b = Buffer.alloc(Math.min(this.datagram, this.layout.size - start));
    fillFile(b, this.layout, start);
    return b;
  }

  push(payload: Buffer): void {
    this.tally.received++;
    this.tally.bytes += payload.length;
    for (let k = this.next; k < Math.min(this.count, this.next + LOOKAHEAD); k++) {
      if (!payload.equals(this.expected(k))) continue;
      this.tally.lost += k - this.next;
      this.tally.matched++;
      this.next = k + 1;
      return;
    }
    this.tally.wrong++;
    if (!this.tally.mismatch) {
      const want = this.next < this.count ? this.expected(this.next) : Buffer.alloc(0);
      let at = 0;
      while (at < Math.min(want.length, payload.length) && want[at] === payload[at]) at++;
      this.tally.mismatch = {
        offset: this.next * this.datagram + at,
        expected: want.subarray(at, at + 16).toString('hex'),
        found: payload.subarray(at, at + 16).toString('hex'),
      };
    }
    this.next = Math.min(this.count, this.next + 1);
  }

  /** The tally; datagrams never seen after the last arrival count as lost. */
  finish(): DatagramTally {
    return { ...this.tally, lost: this.tally.lost + (this.count - this.next) };
  }
}
