/**
 * Agent actions zc.udpRecvStart / zc.udpRecvStop: the peer receives the
 * datagrams of a UDP MSG_ZEROCOPY send and matches each against the pattern
 * as it arrives (DatagramMatcher); nothing is kept.
 */
import { DatagramMatcher, type DatagramTally } from '../../codec/zc/datagrams.js';
import type { FileLayout } from '../../codec/zc/pattern.js';
import { describeError, NicmatrixError } from '../../codec/errors.js';
import * as C from '../../sys/consts.js';
import { syscallErrno } from '../../sys/errno.js';
import { UdpSocket } from '../../sys/inet.js';
import { defineAction } from '../registry.js';

declare module '../protocol.js' {
  interface ActionMap {
    'zc.udpRecvStart': {
      params: { family: 4 | 6; addr: string; port: number; layout: FileLayout; datagram: number };
      result: { id: string };
    };
    /** Waits until `expect` datagrams arrived (at most `timeoutMs`), then reports. */
    'zc.udpRecvStop': { params: { id: string; expect: number; timeoutMs?: number }; result: DatagramTally };
  }
}

/** Receive buffer asked for, so a burst of datagrams is not dropped before the agent reads. */
const RCVBUF = 8 << 20;

class DatagramReceiver {
  private stopped = false;
  private failure: unknown;
  private readonly done: Promise<void>;

  constructor(
    private readonly udp: UdpSocket,
    private readonly matcher: DatagramMatcher,
  ) {
    this.done = this.run().catch((e: unknown) => {
      this.failure = e;
    });
  }

  private async run(): Promise<void> {
    let burst = 0;
    while (!this.stopped) {
      const d = this.udp.recv();
      if (!d) {
        burst = 0;
        await this.udp.sock.wait(C.POLLIN, 50);
        continue;
      }
      this.matcher.push(d.data);
      // A long burst must not starve the agent's other actions.
      if (++burst % 256 === 0) await new Promise((r) => setImmediate(r));
    }
  }

  async stop(expect: number, timeoutMs: number): Promise<DatagramTally> {
    const deadline = Date.now() + timeoutMs;
    while (this.matcher.finish().received < expect && Date.now() < deadline && !this.failure) await new Promise((r) => setTimeout(r, 10));
    this.close();
    await this.done;
    if (this.failure)
      throw new NicmatrixError('AGENT', `zc.udpRecvStop: the receiver failed: ${describeError(this.failure)}`, { cause: this.failure });
    return this.matcher.finish();
  }

  close(): void {
    this.stopped = true;
    this.udp.close();
  }
}

defineAction('zc.udpRecvStart', async ({ family, addr, port, layout, datagram }, ctx) => {
  const udp = UdpSocket.open(family, { src: addr, sport: port });
  try {
    udp.sock.setInt(C.SOL_SOCKET, C.SO_RCVBUFFORCE, RCVBUF, 'SO_RCVBUFFORCE');
  } catch (e) {
    // Without CAP_NET_ADMIN the capped SO_RCVBUF is the best there is.
    if (syscallErrno(e) !== 'EPERM') throw e;
    udp.sock.setInt(C.SOL_SOCKET, C.SO_RCVBUF, RCVBUF, 'SO_RCVBUF');
  }
  const id = ctx.newId('zc-udp');
  ctx.resources.set(id, new DatagramReceiver(udp, new DatagramMatcher(layout, datagram)));
  return { id };
});

defineAction('zc.udpRecvStop', async ({ id, expect, timeoutMs }, ctx) => {
  const rx = ctx.resources.get(id);
  if (!(rx instanceof DatagramReceiver))
    throw new NicmatrixError(
      'AGENT',
      `zc.udpRecvStop: expected a zc UDP receiver "${id}", found ${rx ? 'another kind of resource' : 'none'}`,
    );
  ctx.resources.delete(id);
  return rx.stop(expect, timeoutMs ?? 15_000);
});
