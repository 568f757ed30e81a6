/**
 * Agent actions zc.recvStart / zc.recvStop: the peer accepts one TCP
 * connection and verifies what arrives as it streams (byte-exact, or per
 * block attributed to generations), without keeping the data. Reports bytes,
 * the first differing offset, throughput and the agent's peak RSS meanwhile.
 */
import fs from 'node:fs';
import type { StreamSpec } from '../../codec/zc/pattern.js';
import { BlockAttributor, encodeMasks, type ExactResult, ExactVerifier, type Mismatch } from '../../codec/zc/verify.js';
import { describeError, NicmatrixError } from '../../codec/errors.js';
import * as C from '../../sys/consts.js';
import { TcpListener } from '../../sys/listener.js';
import { sleep } from '../../sys/socket.js';
import { readToEnd } from '../../sys/stream-reader.js';
import { LATE_COPY_WAIT_MS, type TcpConnection, type TcpStats } from '../../sys/tcp.js';
import { defineAction } from '../registry.js';

/** What a peer's stream receiver found. */
export interface StreamReport {
  /** The DUT ended the stream (FIN) before the receiver stopped. */
  eof: boolean;
  accepted: boolean;
  exact?: ExactResult;
  attribution?: { bytes: number; expected: number; blockSize: number; masks: string; foreign: number; firstForeign: Mismatch[] };
  /** First to last byte, ns. */
  durationNs: number;
  throughputBps?: number;
  /** VmHWM of the receiving agent while it received (peak reset at start), and VmRSS at start. */
  peakRssBytes?: number;
  rssStartBytes?: number;
  /** The connection failed on the peer's side (reset...). */
  error?: string;
  /** The receiving socket's TCP_INFO when stopped (its dataSegsIn counts every copy that reached it). */
  tcp?: TcpStats;
}

declare module '../protocol.js' {
  interface ActionMap {
    /** Listens for one connection whose bytes must be `spec` (exact), or attributed per `blockSize` block. */
    'zc.recvStart': {
      params: { family: 4 | 6; addr: string; port: number; spec: StreamSpec; blockSize?: number; trackMemory?: boolean };
      result: { id: string };
    };
    /**
     * Waits up to `timeoutMs` for the end of the stream, then up to LATE_COPY_WAIT_MS more until the socket counted
     * `expectSegsIn` data segments (what the sender's TCP_INFO says it put out), then reports.
     */
    'zc.recvStop': { params: { id: string; timeoutMs?: number; expectSegsIn?: number }; result: StreamReport };
  }
}

/** Longest wait, after the end of the stream, for copies still in flight: a backlog on a loaded CPU holds them for ms. */

function procStatusBytes(field: string): number | undefined {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : undefined;
}

/** Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+): the next peak is the receiver's. */
function resetPeakRss(): boolean {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    // Without it (no procfs, an old kernel) the report simply carries no memory figures.
    return false;
  }
}

class StreamReceiver {
  private stopped = false;
  private conn: TcpConnection | undefined;
  private readonly done: Promise<void>;
  private eof = false;
  private durationNs = 0;
  private failure: string | undefined;
  private readonly rssStart: number | undefined;

  constructor(
    private readonly listener: TcpListener,
    private readonly sink: ExactVerifier | BlockAttributor,
    trackMemory: boolean,
  ) {
    this.rssStart = trackMemory && resetPeakRss() ? procStatusBytes('VmRSS') : undefined;
    this.done = this.run().catch((e: unknown) => {
      this.failure = describeError(e);
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped && !this.conn) {
      await this.listener.sock.wait(C.POLLIN, 50);
      if (!this.stopped) this.conn = this.listener.accept() ?? undefined;
    }
    this.listener.close();
    if (!this.conn) return;
    const r = await readToEnd(this.conn, (chunk) => this.sink.update(chunk), { stop: () => this.stopped });
    this.eof = r.eof;
    if (r.firstNs !== undefined && r.lastNs !== undefined) this.durationNs = Number(r.lastNs - r.firstNs);
    // No FIN back until stop(): a socket in CLOSE_WAIT stays reachable, so copies the sender's retransmissions still have
    // in flight (veth queues them per CPU: they can arrive after the sender's last ACK) reach it and count in its TCP_INFO.
    if (r.eof) this.conn.ackNow();
    else this.conn.close();
  }

  async stop(timeoutMs: number, expectSegsIn?: number): Promise<StreamReport> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.done, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    this.stopped = true;
    await this.done;
    if (this.eof && expectSegsIn !== undefined) await this.lateCopies(expectSegsIn);
    const tcp = this.conn?.statsOrUndefined();
    this.close();
    const out: StreamReport = { eof: this.eof, accepted: this.conn !== undefined, durationNs: this.durationNs, ...(tcp ? { tcp } : {}) };
    if (this.sink instanceof ExactVerifier) out.exact = this.sink.finish();
    else {
      const a = this.sink.finish();
      out.attribution = { ...a, masks: encodeMasks(a.masks) };
    }
    const bytes = out.exact?.bytes ?? out.attribution?.bytes ?? 0;
    if (this.durationNs > 0) out.throughputBps = Math.round((bytes * 1e9) / this.durationNs);
    if (this.rssStart !== undefined) {
      out.peakRssBytes = procStatusBytes('VmHWM');
      out.rssStartBytes = this.rssStart;
    }
    if (this.failure) out.error = this.failure;
    return out;
  }

  /** Waits a little for the sender's last copies: until the socket counted `expected` data segments, or LATE_COPY_WAIT_MS. */
  private async lateCopies(expected: number): Promise<void> {
    const deadline = Date.now() + LATE_COPY_WAIT_MS;
    while (Date.now() < deadline && (this.conn?.statsOrUndefined()?.dataSegsIn ?? expected) < expected) await sleep(5);
  }

  close(): void {
    this.stopped = true;
    this.listener.close();
    this.conn?.close();
  }
}

defineAction('zc.recvStart', async ({ family, addr, port, spec, blockSize, trackMemory }, ctx) => {
  const sink = blockSize ? new BlockAttributor(spec, blockSize) : new ExactVerifier(spec);
  const rx = new StreamReceiver(TcpListener.open(family, addr, port), sink, trackMemory ?? false);
  const id = ctx.newId('zc-recv');
  ctx.resources.set(id, rx);
  return { id };
});

defineAction('zc.recvStop', async ({ id, timeoutMs, expectSegsIn }, ctx) => {
  const rx = ctx.resources.get(id);
  if (!(rx instanceof StreamReceiver))
    throw new NicmatrixError('AGENT', `zc.recvStop: expected a zc receiver "${id}", found ${rx ? 'another kind of resource' : 'none'}`);
  ctx.resources.delete(id);
  return rx.stop(timeoutMs ?? 30_000, expectSegsIn);
});
