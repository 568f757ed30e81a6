/**
 * A TCP sink: accepts connections, reads and discards what they send while
 * counting and hashing it. Runs in the background on worker polls; the data
 * of all connections hashes as one stream, connection after connection in
 * accept order.
 */
import crypto from 'node:crypto';
import type { IpFamily } from '../codec/addr.js';
import * as C from './consts.js';
import { syscallErrno } from './errno.js';
import { pollSockets, sleep } from './socket.js';
import { TcpListener } from './listener.js';
import { LATE_COPY_WAIT_MS, type TcpConnection } from './tcp.js';

/** What a sink received. */
export interface SinkResult {
  bytes: number;
  connections: number;
  /** SHA-256 (hex) of every connection's bytes, concatenated in accept order. */
  sha256: string;
  /** Data segments that reached the sink's sockets, every copy counted (TCP_INFO data_segs_in), when each one said. */
  dataSegsIn?: number;
}

type Conn = { c: TcpConnection; eof: boolean; held: Buffer[] };

/** Longest time one read pass may take before yielding to the event loop. */
const SLICE_MS = 4;

export class TcpSink {
  private conns: Conn[] = [];
  /** Index of the connection whose bytes feed the hash now; later ones are held until it ends. */
  private current = 0;
  private hash = crypto.createHash('sha256');
  private bytes = 0;
  private stopping = false;
  private loop: Promise<void>;
  private failure: unknown;

  private constructor(readonly listener: TcpListener) {
    this.loop = this.run().catch((e: unknown) => {
      this.failure = e;
    });
  }

  /** Opens the listener (synchronously: callable inside inNetns) and starts accepting. */
  static open(family: IpFamily, addr: string, port: number): TcpSink {
    return new TcpSink(TcpListener.open(family, addr, port));
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const open = this.conns.filter((k) => !k.eof);
      await pollSockets([{ sock: this.listener.sock, events: C.POLLIN }, ...open.map((k) => ({ sock: k.c.sock, events: C.POLLIN }))], 200);
      if (!this.stopping) this.pass();
    }
  }

  /** Accepts what is pending and reads what is queued, for at most SLICE_MS; true when all was read. */
  private pass(): boolean {
    const until = performance.now() + SLICE_MS;
    for (let c = this.listener.accept(); c; c = this.listener.accept()) this.conns.push({ c, eof: false, held: [] });
    for (const k of this.conns) {
      while (!k.eof) {
        const got = this.read(k);
        if (got === null) break;
        if (got.length === 0) {
          k.eof = true;
          // FIN back, but the socket kept until close(): its TCP_INFO then counts the sender's late copies too.
          finish(k.c);
        } else {
          this.take(k, got);
        }
        if (performance.now() >= until) return false;
      }
    }
    this.advance();
    return true;
  }

  /** recv() on one connection; a reset ends it like EOF (what arrived counts, the hash shows what did not). */
  private read(k: Conn): Buffer | null {
    try {
      return k.c.recvSome();
    } catch (e) {
      if (syscallErrno(e) === 'ECONNRESET') return Buffer.alloc(0);
      throw e;
    }
  }

  private take(k: Conn, data: Buffer): void {
    this.bytes += data.length;
    if (this.conns[this.current] === k) this.hash.update(data);
    else k.held.push(data);
  }

  /** Moves the hash on past finished connections, feeding what the next ones held. */
  private advance(): void {
    while (this.current < this.conns.length && this.conns[this.current]!.eof) {
      this.current++;
      const next = this.conns[this.current];
      if (next) for (const b of next.held.splice(0)) this.hash.update(b);
    }
  }

  /** The data segments the connections' sockets counted (TCP_INFO data_segs_in, every copy), undefined unless each has one. */
  private segsIn(): number | undefined {
    const segs = this.conns.map((k) => k.c.statsOrUndefined()?.dataSegsIn);
    return segs.every((n) => n !== undefined) ? segs.reduce((a: number, n) => a + n!, 0) : undefined;
  }

  /**
   * Waits up to `graceMs` for every connection (accepted or still queued) to
   * end, reads the rest, closes everything and reports.
   */
  async close(graceMs = 2000, expectSegsIn?: number): Promise<SinkResult> {
    const deadline = Date.now() + graceMs;
    try {
      for (;;) {
        while (!this.pass()) await sleep(0);
        if (this.failure) throw this.failure;
        if (this.conns.every((k) => k.eof) || Date.now() >= deadline) break;
        await sleep(5);
      }
      // The sender's last copies may still be on their way: its count of data segments put out is waited for, a little.
      const late = Date.now() + LATE_COPY_WAIT_MS;
      while (expectSegsIn !== undefined && Date.now() < late && (this.segsIn() ?? expectSegsIn) < expectSegsIn) {
        this.pass();
        await sleep(5);
      }
    } finally {
      this.stopping = true;
      this.listener.close();
      await this.loop;
    }
    const dataSegsIn = this.segsIn();
    for (const k of this.conns) k.c.close();
    for (const k of this.conns.slice(this.current + 1)) for (const b of k.held.splice(0)) this.hash.update(b);
    return {
      bytes: this.bytes,
      connections: this.conns.length,
      sha256: this.hash.digest('hex'),
      ...(dataSegsIn !== undefined ? { dataSegsIn } : {}),
    };
  }
}

/**
 * After the peer's FIN: acknowledge it at once, and keep the socket (CLOSE_WAIT) until close(), so copies the sender's
 * retransmissions still have in flight reach it and count in its TCP_INFO; a reset connection is closed.
 */
function finish(c: TcpConnection): void {
  try {
    c.ackNow();
  } catch {
    // Nothing to acknowledge on a socket that refuses the option: it is of no further use.
    c.close();
  }
}
