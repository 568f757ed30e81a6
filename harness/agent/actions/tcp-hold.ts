/**
 * Agent actions tcp.hold / tcp.holdClose: a TCP connection that is opened and
 * then left alone, so a peer can inject hand-made segments into it while its
 * own kernel socket stays idle (the receive checks write the segments).
 */
import { NicmatrixError } from '../../codec/errors.js';
import { TcpConnection } from '../../sys/tcp.js';
import { defineAction } from '../registry.js';

declare module '../protocol.js' {
  interface ActionMap {
    /** Connects to dst:dport and keeps the connection open without sending; returns the local port. */
    'tcp.hold': {
      params: { family: 4 | 6; src?: string; dst: string; dport: number; sport?: number };
      result: { id: string; sport: number };
    };
    /** Closes a held connection (its kernel sends what its state calls for). */
    'tcp.holdClose': { params: { id: string }; result: Record<string, never> };
  }
}

/** Agent resource: the connection closes when the agent exits without holdClose. */
class HeldConnection {
  constructor(readonly conn: TcpConnection) {}
  close(): void {
    this.conn.close();
  }
}

defineAction('tcp.hold', async ({ family, src, dst, dport, sport }, ctx) => {
  const conn = TcpConnection.open(family, { src, sport, nodelay: true });
  try {
    await conn.connect(dst, dport);
  } catch (e) {
    conn.close();
    throw e;
  }
  const id = ctx.newId('tcp-held');
  ctx.resources.set(id, new HeldConnection(conn));
  return { id, sport: conn.local().port };
});

defineAction('tcp.holdClose', async ({ id }, ctx) => {
  const res = ctx.resources.get(id);
  if (!(res instanceof HeldConnection))
    throw new NicmatrixError(
      'AGENT',
      `tcp.holdClose: expected a held connection "${id}", found ${res ? 'another kind of resource' : 'none'}`,
    );
  ctx.resources.delete(id);
  res.close();
  return {};
});
