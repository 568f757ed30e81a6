/** IPv6 extension headers to build: hop-by-hop, destination options, routing, fragment. */
import { NicmatrixError } from './errors.js';

export const NEXTHDR_HOP = 0;
export const NEXTHDR_ROUTING = 43;
export const NEXTHDR_FRAGMENT = 44;
export const NEXTHDR_DEST = 60;

/** An extension header to build. Options are raw TLVs, padded with Pad1/PadN to the 8-byte unit. */
export type Ipv6ExtSpec =
  | { kind: 'hop-by-hop' | 'destination'; options?: Uint8Array }
  | { kind: 'routing'; routingType?: number; segmentsLeft?: number; data?: Uint8Array }
  | { kind: 'fragment'; offset: number; more: boolean; id: number };

export function extSpecType(spec: Ipv6ExtSpec): number {
  switch (spec.kind) {
    case 'hop-by-hop':
      return NEXTHDR_HOP;
    case 'destination':
      return NEXTHDR_DEST;
    case 'routing':
      return NEXTHDR_ROUTING;
    case 'fragment':
      return NEXTHDR_FRAGMENT;
  }
}

function padTlv(body: number[], total: number): void {
  const pad = total - body.length;
  if (pad === 1) body.push(0);
  else if (pad >= 2) body.push(1, pad - 2, ...new Array<number>(pad - 2).fill(0));
}

/** Builds one extension header followed by protocol `next`. */
export function buildExtHeader(spec: Ipv6ExtSpec, next: number): Buffer {
  if (spec.kind === 'fragment') {
    if (spec.offset % 8 !== 0 || spec.offset < 0 || spec.offset > 0xfff8) {
      throw new NicmatrixError('CODEC', `ipv6 fragment: offset must be a multiple of 8 up to 65528, found ${spec.offset}`);
    }
    const h = Buffer.alloc(8);
    h[0] = next;
    h.writeUInt16BE(spec.offset | (spec.more ? 1 : 0), 2);
    h.writeUInt32BE(spec.id >>> 0, 4);
    return h;
  }
  const body: number[] = [next, 0];
  if (spec.kind === 'routing') {
    // Default type 253 (RFC 4727 experiment) with no segments left: every receiver skips it.
    body.push(spec.routingType ?? 253, spec.segmentsLeft ?? 0, ...(spec.data ?? [0, 0, 0, 0]));
    while (body.length % 8 !== 0) body.push(0);
  } else {
    body.push(...(spec.options ?? []));
    padTlv(body, Math.max(8, Math.ceil(body.length / 8) * 8));
  }
  if (body.length > 2048) throw new NicmatrixError('CODEC', `ipv6 ${spec.kind}: header of ${body.length} bytes exceeds 2048`);
  body[1] = body.length / 8 - 1;
  return Buffer.from(body);
}
