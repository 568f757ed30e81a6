/**
 * Whole-frame parser: Ethernet, tags, IPv4/IPv6, UDP/TCP/ICMP. Frames from the
 * wire can be anything, so it never throws: what could not be read is named
 * in `error` and every layer that was whole is still given.
 */
import { ETH_P_IPV4, ETH_P_IPV6, parseEthernet, type EthernetInfo, type VlanTag } from './ethernet.js';
import { parseIpv4, type Ipv4Info } from './ipv4.js';
import { isIpv6ExtHeader, parseIpv6, type Ipv6Info } from './ipv6.js';
import { parseTcp, TCP_CSUM_OFFSET, type TcpInfo } from './tcp.js';
import { parseUdp, UDP_CSUM_OFFSET, UDP_HLEN, type UdpInfo } from './udp.js';

export type IpInfo = Ipv4Info | Ipv6Info;
export type L4Kind = 'udp' | 'tcp' | 'icmp' | 'icmpv6' | 'other';

export const IPPROTO_ICMP = 1;
export const IPPROTO_ICMPV6 = 58;

/** The transport layer as found (offsets are frame offsets). */
export interface L4Info {
  kind: L4Kind;
  proto: number;
  offset: number;
  /** Header + data as the IP header declares it (may exceed what was captured). */
  length: number;
  sport?: number;
  dport?: number;
  /** Where the checksum field is, for kinds that have one. */
  checksumOffset?: number;
  checksum?: number;
  udp?: UdpInfo;
  tcp?: TcpInfo;
}

export interface ParsedFrame {
  /** Bytes given to the parser. */
  length: number;
  eth?: EthernetInfo;
  /** Same as eth.vlans (outermost first), empty when untagged or unparsed. */
  vlans: VlanTag[];
  ip?: IpInfo;
  l4?: L4Info;
  /**
   * Application data after the UDP/TCP header; for other protocols the whole L4 part;
   * for a non-first fragment the fragment's data. Clipped to the capture.
   */
  payload?: { offset: number; length: number };
  /** Bytes after the IP packet: Ethernet padding or a trailer. */
  trailer: number;
  /** The first thing that was short or malformed. */
  error?: string;
}

/** Parses a frame that starts with the Ethernet header. */
export function parseFrame(buf: Uint8Array): ParsedFrame {
  const out: ParsedFrame = { length: buf.length, vlans: [], trailer: 0 };
  const note = (e: string | undefined): void => {
    if (e !== undefined && out.error === undefined) out.error = e;
  };
  const e = parseEthernet(buf);
  note(e.error);
  if (!e.eth) return out;
  out.eth = e.eth;
  out.vlans = e.eth.vlans;
  const l3 = e.eth.payloadOffset;
  if (e.eth.etherType !== ETH_P_IPV4 && e.eth.etherType !== ETH_P_IPV6) {
    out.payload = { offset: l3, length: buf.length - l3 };
    return out;
  }
  const p = e.eth.etherType === ETH_P_IPV4 ? parseIpv4(buf, l3) : parseIpv6(buf, l3);
  note(p.error);
  if (!p.ip) return out;
  const ip = (out.ip = p.ip);
  const ipEnd = ip.offset + ip.totalLen;
  out.trailer = Math.max(0, buf.length - ipEnd);
  const end = Math.min(buf.length, ipEnd);
  const l4off = ip.offset + ip.hdrLen;
  if (l4off > end) return out;
  const l4len = Math.max(0, ipEnd - l4off);
  if (ip.fragment && ip.fragment.offset > 0) {
    out.payload = { offset: l4off, length: end - l4off };
    return out;
  }
  // An unfinished chain (cut or malformed extension header) has no upper layer to read.
  if (ip.family === 6 && (ip.proto === 59 || isIpv6ExtHeader(ip.proto))) return out;
  parseL4(buf, ip.proto, l4off, l4len, end, out, note);
  return out;
}

function parseL4(
  buf: Uint8Array,
  proto: number,
  off: number,
  len: number,
  end: number,
  out: ParsedFrame,
  note: (e?: string) => void,
): void {
  if (proto === 17) {
    const u = parseUdp(buf, off, end);
    note(u.error);
    if (!u.udp) return;
    const l4: L4Info = { kind: 'udp', proto, offset: off, length: len, sport: u.udp.sport, dport: u.udp.dport, udp: u.udp };
    l4.checksumOffset = off + UDP_CSUM_OFFSET;
    l4.checksum = u.udp.checksum;
    out.l4 = l4;
    const dataEnd = Math.min(end, off + Math.max(UDP_HLEN, Math.min(u.udp.length, len)));
    out.payload = { offset: off + UDP_HLEN, length: dataEnd - off - UDP_HLEN };
    // A first fragment holds only the start of the datagram the length field describes.
    if (u.udp.length > len && !out.ip?.fragment) note(`udp: length field ${u.udp.length} exceeds the ${len} bytes the IP header gives`);
    return;
  }
  if (proto === 6) {
    const t = parseTcp(buf, off, end);
    note(t.error);
    if (!t.tcp) return;
    out.l4 = { kind: 'tcp', proto, offset: off, length: len, sport: t.tcp.sport, dport: t.tcp.dport, tcp: t.tcp };
    out.l4.checksumOffset = off + TCP_CSUM_OFFSET;
    out.l4.checksum = t.tcp.checksum;
    const dataOff = Math.min(end, off + Math.max(20, t.tcp.hdrLen));
    out.payload = { offset: dataOff, length: end - dataOff };
    return;
  }
  const kind: L4Kind = proto === IPPROTO_ICMP ? 'icmp' : proto === IPPROTO_ICMPV6 ? 'icmpv6' : 'other';
  out.l4 = { kind, proto, offset: off, length: len };
  if (kind !== 'other') {
    if (end - off < 4) {
      note(`${kind}: header needs 4 bytes at offset ${off}, ${end - off} available`);
    } else {
      out.l4.checksumOffset = off + 2;
      out.l4.checksum = (buf[off + 2]! << 8) | buf[off + 3]!;
    }
  }
  out.payload = { offset: off, length: end - off };
}
