/** Agent actions tcp.listen / tcp.listenClose / tcp.send over the libc TCP sockets of harness/sys. */
import { NicmatrixError } from '../../codec/errors.js';
import { TcpSink } from '../../sys/sink.js';
import { sleep } from '../../sys/socket.js';
import { TcpConnection, type TcpStats } from '../../sys/tcp.js';
import { defineAction } from '../registry.js';

declare module '../protocol.js' {
  interface ActionMap {
    /** Opens a TCP listener that accepts and counts/discards what it receives. */
    'tcp.listen': { params: { family: 4 | 6; addr: string; port: number }; result: { id: string } };
    /** `expectSegsIn`: the sender's count of data segments put out (TCP_INFO), waited for a little so late copies count. */
    'tcp.listenClose': {
      params: { id: string; expectSegsIn?: number };
      result: { bytes: number; connections: number; sha256: string; dataSegsIn?: number };
    };
    /** Connects and writes each payload as its own segment (TCP_NODELAY, one send per payload). */
    'tcp.send': {
      params: { family: 4 | 6; src?: string; dst: string; dport: number; sport?: number; payloads: string[]; gapMs?: number };
      /** `tcp`: the socket's TCP_INFO once its FIN was acknowledged. */
      result: { sent: number; bytes: number; sport: number; tcp?: TcpStats };
    };
  }
}

/** Default pause between payloads, after the previous one was acknowledged. */
const DEFAULT_GAP_MS = 2;

/** Agent resource: the sink closes when the agent exits without listenClose. */
class SinkResource {
  constructor(readonly sink: TcpSink) {}
  async close(): Promise<void> {
    await this.sink.close(0);
  }
}

defineAction('tcp.listen', async ({ family, addr, port }, ctx) => {
  const res = new SinkResource(TcpSink.open(family, addr, port));
  const id = ctx.newId('tcp-listener');
  ctx.resources.set(id, res);
  return { id };
});

defineAction('tcp.listenClose', async ({ id, expectSegsIn }, ctx) => {
  const res = ctx.resources.get(id);
  if (!(res instanceof SinkResource))
    throw new NicmatrixError(
      'AGENT',
      `tcp.listenClose: expected an open listener "${id}", found ${res ? 'another kind of resource' : 'none'}`,
    );
  ctx.resources.delete(id);
  return res.sink.close(undefined, expectSegsIn);
});

defineAction('tcp.send', async ({ family, src, dst, dport, sport, payloads, gapMs }) => {
  const conn = TcpConnection.open(family, { src, sport, nodelay: true });
  let bytes = 0;
  try {
    await conn.connect(dst, dport);
    for (const [i, text] of payloads.entries()) {
      bytes += await conn.sendAll(Buffer.from(text, 'base64'));
      // The link is idle again once everything is acknowledged: the next send makes its own segment.
      if (i < payloads.length - 1) {
        await conn.waitAcked();
        await sleep(gapMs ?? DEFAULT_GAP_MS);
      }
    }
    const port = conn.local().port;
    let tcp: TcpStats | undefined;
    await conn.closeAcked(undefined, (s) => (tcp = s));
    return { sent: payloads.length, bytes, sport: port, ...(tcp ? { tcp } : {}) };
  } finally {
    conn.close();
  }
});
