/**
 * Agent actions udp.recvStart / udp.recvStop: an ordinary UDP socket that
 * collects every datagram the stack delivers to it, so a receive check can
 * tell what reached the application from what the kernel dropped.
 */
import { NicmatrixError } from '../../codec/errors.js';
import * as C from '../../sys/consts.js';
import { UdpSocket } from '../../sys/inet.js';
import { pause, sleep } from '../../sys/socket.js';
import { callSignal, defineAction } from '../registry.js';

/** A datagram as the socket delivered it (payload base64) with its source. */
export interface DeliveredDatagram {
  data: string;
  from: string;
  port: number;
}

declare module '../protocol.js' {
  interface ActionMap {
    /** Binds a UDP socket to addr:port and starts collecting what it receives. */
    'udp.recvStart': { params: { family: 4 | 6; addr: string; port: number; rcvbuf?: number }; result: { id: string } };
    /** Waits for `expect` datagrams (at most `timeoutMs`), then `settleMs` more; closes and returns them in arrival order. */
    'udp.recvStop': {
      params: { id: string; expect?: number; settleMs?: number; timeoutMs?: number };
      result: { datagrams: DeliveredDatagram[] };
    };
  }
}

/** Default receive buffer: 64 full-size datagrams queued at once must not overflow it. */
const DEFAULT_RCVBUF = 16 << 20;
/** Background drain period, and the longest slice one drain may take. */
const DRAIN_EVERY_MS = 10;
const SLICE_MS = 4;
/** Largest UDP payload (IPv6 without jumbograms: 65535 - 8), plus room to spare. */
const MAX_DATAGRAM = 65536;

class Receiver {
  readonly datagrams: DeliveredDatagram[] = [];
  private timer: NodeJS.Timeout;
  private failure: unknown;

  constructor(readonly sock: UdpSocket) {
    this.timer = setInterval(() => this.drain(), DRAIN_EVERY_MS);
    this.timer.unref();
  }

  /** Reads what is queued for at most SLICE_MS; true when the queue is empty. */
  drain(): boolean {
    if (this.failure || this.sock.sock.closed) return true;
    const until = performance.now() + SLICE_MS;
    try {
      for (let d = this.sock.recv(MAX_DATAGRAM); d; d = this.sock.recv(MAX_DATAGRAM)) {
        this.datagrams.push({ data: d.data.toString('base64'), from: d.from.addr, port: d.from.port });
        if (performance.now() >= until) return false;
      }
    } catch (e) {
      // Runs from a timer too: keep the error for stop() rather than crash the agent.
      this.failure = e;
    }
    return true;
  }

  async stop(expect: number | undefined, settleMs: number, timeoutMs: number, signal?: AbortSignal): Promise<DeliveredDatagram[]> {
    try {
      const deadline = Date.now() + timeoutMs;
      while (!this.drain()) await sleep(0);
      while (expect !== undefined && this.datagrams.length < expect && Date.now() < deadline && !this.failure && !signal?.aborted) {
        await this.sock.sock.wait(C.POLLIN, Math.min(100, deadline - Date.now()));
        while (!this.drain()) await sleep(0);
      }
      if (settleMs > 0) await pause(settleMs, signal);
      while (!this.drain()) await sleep(0);
      if (this.failure) throw this.failure;
      return this.datagrams;
    } finally {
      this.close();
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.sock.close();
  }
}

defineAction('udp.recvStart', async ({ family, addr, port, rcvbuf }, ctx) => {
  const sock = UdpSocket.open(family, { src: addr, sport: port });
  try {
    // FORCE: root may exceed net.core.rmem_max, so a burst is queued rather than dropped.
    sock.sock.setInt(C.SOL_SOCKET, C.SO_RCVBUFFORCE, rcvbuf ?? DEFAULT_RCVBUF, 'SO_RCVBUFFORCE');
  } catch (e) {
    sock.close();
    throw e;
  }
  const id = ctx.newId('udp-receiver');
  ctx.resources.set(id, new Receiver(sock));
  return { id };
});

defineAction('udp.recvStop', async ({ id, expect, settleMs, timeoutMs }, ctx) => {
  const r = ctx.resources.get(id);
  if (!(r instanceof Receiver))
    throw new NicmatrixError(
      'AGENT',
      `udp.recvStop: expected an open UDP receiver "${id}", found ${r ? 'another kind of resource' : 'none'}`,
    );
  ctx.resources.delete(id);
  return { datagrams: await r.stop(expect, settleMs ?? 100, timeoutMs ?? 2000, callSignal()) };
});
