/** Agent actions sctp.listen / sctp.close: a kernel SCTP endpoint for the sctp-csum checks. */
import { NicmatrixError } from '../../codec/errors.js';
import { isNoSctp, sctpListen } from '../../sys/sctp.js';
import type { Socket } from '../../sys/socket.js';
import { defineAction } from '../registry.js';

declare module '../protocol.js' {
  interface ActionMap {
    /** Opens an SCTP listener; `missingModule` when this kernel has no SCTP. */
    'sctp.listen': { params: { family: 4 | 6; addr: string; port: number }; result: { id: string } | { missingModule: string } };
    'sctp.close': { params: { id: string }; result: Record<string, never> };
  }
}

class SctpResource {
  constructor(readonly sock: Socket) {}
  close(): void {
    this.sock.close();
  }
}

defineAction('sctp.listen', async ({ family, addr, port }, ctx) => {
  let sock: Socket;
  try {
    sock = sctpListen(family, addr, port);
  } catch (e) {
    if (isNoSctp(e)) return { missingModule: 'sctp' };
    throw e;
  }
  const id = ctx.newId('sctp-listener');
  ctx.resources.set(id, new SctpResource(sock));
  return { id };
});

defineAction('sctp.close', async ({ id }, ctx) => {
  const r = ctx.resources.get(id);
  if (!(r instanceof SctpResource))
    throw new NicmatrixError(
      'AGENT',
      `sctp.close: expected an open SCTP listener "${id}", found ${r ? 'another kind of resource' : 'none'}`,
    );
  ctx.resources.delete(id);
  r.close();
  return {};
});
