/** UDP header (RFC 768): parse and build. */
export const UDP_HLEN = 8;
/** Offset of the checksum field inside the UDP header. */
export const UDP_CSUM_OFFSET = 6;

export interface UdpInfo {
  sport: number;
  dport: number;
  /** The header's length field (header + data). */
  length: number;
  checksum: number;
}

export interface UdpParse {
  udp?: UdpInfo;
  error?: string;
}

/** Parses the header at `off`; `end` is where the IP payload ends (or the capture, if shorter). */
export function parseUdp(buf: Uint8Array, off: number, end: number): UdpParse {
  if (end - off < UDP_HLEN) return { error: `udp: header needs ${UDP_HLEN} bytes at offset ${off}, ${Math.max(0, end - off)} available` };
  const rd16 = (i: number): number => (buf[off + i]! << 8) | buf[off + i + 1]!;
  const udp: UdpInfo = { sport: rd16(0), dport: rd16(2), length: rd16(4), checksum: rd16(6) };
  if (udp.length < UDP_HLEN) return { udp, error: `udp: length field ${udp.length} is shorter than the header` };
  return { udp };
}

/** An 8-byte UDP header; `length` is header + data. */
export function buildUdpHeader(sport: number, dport: number, length: number, checksum = 0): Buffer {
  const h = Buffer.alloc(UDP_HLEN);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(length, 4);
  h.writeUInt16BE(checksum, 6);
  return h;
}
