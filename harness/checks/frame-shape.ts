/**
 * The shape of a transmitted IP frame (pure): lengths that agree with each
 * other and with the bytes on the wire, and a right IPv4 header checksum.
 * Every transmit family judges these before any checksum or payload, each
 * fault with its own message, so a wrong length is never read as a wrong sum.
 */
import { checksum } from '../codec/checksum.js';
import { ETH_ZLEN, VLAN_HLEN } from '../codec/index.js';
import type { WireFrame } from './wire.js';

export type ShapeFaultKind = 'truncated' | 'wrong-length' | 'ip-header-checksum' | 'udp-length';

export interface ShapeFault {
  kind: ShapeFaultKind;
  reason: string;
}

/**
 * Longest frame whose bytes after the IP packet can be Ethernet padding: the
 * minimum frame, plus the tags it carries (a sender pads before or after
 * inserting a tag, and a receiver may have stripped one into metadata).
 */
export function paddedLength(f: WireFrame): number {
  return ETH_ZLEN + VLAN_HLEN * (f.parsed.vlans.length + (f.vlanTci === undefined ? 0 : 1));
}

/** Every fault of a frame's lengths and IPv4 header checksum, in the order they are judged; empty when sound. */
export function frameShapeFaults(f: WireFrame): ShapeFault[] {
  const { ip, l4 } = f.parsed;
  if (!ip) return [];
  const out: ShapeFault[] = [];
  const ipEnd = ip.offset + ip.totalLen;
  // A capture cut short by its snap length is the harness's choice, not the wire's.
  const onWire = Math.max(f.data.length, f.raw.len);
  if (onWire < ipEnd) {
    out.push({
      kind: 'truncated',
      reason: `truncated: the IPv${ip.family} header says the packet ends at byte ${ipEnd}, the frame has ${onWire} bytes`,
    });
  } else if (f.parsed.trailer > 0 && onWire > paddedLength(f)) {
    out.push({
      kind: 'wrong-length',
      reason: `wrong length: ${f.parsed.trailer} bytes follow the ${ip.totalLen}-byte IPv${ip.family} packet in a ${onWire}-byte frame (padding only fills a frame up to ${ETH_ZLEN} bytes)`,
    });
  }
  if (ip.family === 4 && !ip.headerChecksumOk) {
    const h = Buffer.from(f.data.subarray(ip.offset, ip.offset + ip.hdrLen));
    h.writeUInt16BE(0, 10);
    const hex = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;
    out.push({
      kind: 'ip-header-checksum',
      reason: `IPv4 header checksum ${hex(ip.headerChecksum)} is wrong, expected ${hex(checksum(h))}`,
    });
  }
  if (l4?.udp && !ip.fragment && onWire >= ipEnd && l4.udp.length !== l4.length) {
    out.push({ kind: 'udp-length', reason: `UDP length field ${l4.udp.length} disagrees with the ${l4.length}-byte IP payload` });
  }
  return out;
}

/** The first fault of a frame's shape (see `frameShapeFaults`); undefined when its shape is sound. */
export function frameShapeFault(f: WireFrame): ShapeFault | undefined {
  return frameShapeFaults(f)[0];
}
