/** Agent actions tcp.listen / tcp.listenClose / tcp.send over the libc TCP sockets of harness/sys. */
import { NicmatrixError } from '../../codec/errors.js';
import { TcpSink } from '../../sys/sink.js';
import { sleep } from '../../sys/socket.js';
import { TcpConnection } from '../../sys/tcp.js';
import { defineAction } from '../registry.js';

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

defineAction('tcp.listenClose', async ({ id }, ctx) => {
  const res = ctx.resources.get(id);
  if (!(res instanceof SinkResource))
    throw new NicmatrixError(
      'AGENT',
      `tcp.listenClose: expected an open listener "${id}", found ${res ? 'another kind of resource' : 'none'}`,
    );
  ctx.resources.delete(id);
  return res.sink.close();
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
    await conn.closeAcked();
    return { sent: payloads.length, bytes, sport: port };
  } finally {
    conn.close();
  }
});
