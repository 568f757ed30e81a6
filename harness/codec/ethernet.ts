/** Ethernet II header and stacked 802.1Q / 802.1ad tags: parse and build. */
import { NicmatrixError } from './errors.js';
import { bytesToMac, macToBytes } from './addr.js';

export const ETH_P_IPV4 = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;
/** Pre-standard QinQ outer tag, still seen on switches. */
export const ETH_P_QINQ_9100 = 0x9100;

export const ETH_HLEN = 14;
export const VLAN_HLEN = 4;
/** Smallest Ethernet frame without FCS: shorter frames are padded on the wire. */
export const ETH_ZLEN = 60;

const VLAN_TPIDS = new Set([ETH_P_8021Q, ETH_P_8021AD, ETH_P_QINQ_9100]);

/** A tag to put on a frame, outermost first. */
export interface VlanSpec {
  /** 0x8100 (802.1Q), 0x88a8 (802.1ad S-tag) or 0x9100. */
  tpid: number;
  /** Priority (3 bits), DEI (1 bit) and VLAN ID (12 bits). */
  tci: number;
}

/** A tag found in a frame. */
export interface VlanTag extends VlanSpec {
  /** Offset of the TPID in the frame. */
  offset: number;
  pcp: number;
  dei: boolean;
  vid: number;
}

export interface EthernetInfo {
  dst: string;
  src: string;
  /** Tags in wire order, outermost first. */
  vlans: VlanTag[];
  /** The EtherType after the last tag (or an 802.3 length when < 0x0600). */
  etherType: number;
  /** Where the network-layer header starts. */
  payloadOffset: number;
}

export interface EthernetParse {
  eth?: EthernetInfo;
  error?: string;
}

export function isVlanTpid(tpid: number): boolean {
  return VLAN_TPIDS.has(tpid);
}

/** Parses the MAC header and every stacked tag; never throws. */
export function parseEthernet(buf: Uint8Array): EthernetParse {
  if (buf.length < ETH_HLEN) return { error: `ethernet: header needs ${ETH_HLEN} bytes, frame has ${buf.length}` };
  const vlans: VlanTag[] = [];
  let off = 12;
  let type = (buf[off]! << 8) | buf[off + 1]!;
  while (isVlanTpid(type)) {
    if (buf.length < off + 2 + VLAN_HLEN) {
      return { error: `vlan: tag ${vlans.length + 1} at offset ${off} needs ${off + 2 + VLAN_HLEN} bytes, frame has ${buf.length}` };
    }
    const tci = (buf[off + 2]! << 8) | buf[off + 3]!;
    vlans.push({ offset: off, tpid: type, tci, pcp: tci >> 13, dei: (tci & 0x1000) !== 0, vid: tci & 0xfff });
    off += VLAN_HLEN;
    type = (buf[off]! << 8) | buf[off + 1]!;
  }
  return { eth: { dst: bytesToMac(buf, 0), src: bytesToMac(buf, 6), vlans, etherType: type, payloadOffset: off + 2 } };
}

/** TCI from its parts. */
export function makeTci(vid: number, pcp = 0, dei = false): number {
  return ((pcp & 7) << 13) | (dei ? 0x1000 : 0) | (vid & 0xfff);
}

/** MAC header with tags (outermost first) ending in `etherType`. */
export function buildEthernet(dst: string, src: string, etherType: number, vlans: readonly VlanSpec[] = []): Buffer {
  const out = Buffer.alloc(ETH_HLEN + VLAN_HLEN * vlans.length);
  macToBytes(dst).copy(out, 0);
  macToBytes(src).copy(out, 6);
  let off = 12;
  for (const v of vlans) {
    if (v.tpid < 0 || v.tpid > 0xffff || v.tci < 0 || v.tci > 0xffff) {
      throw new NicmatrixError('CODEC', `vlan tag: expected 16-bit tpid and tci, found tpid=${v.tpid} tci=${v.tci}`);
    }
    out.writeUInt16BE(v.tpid, off);
    out.writeUInt16BE(v.tci, off + 2);
    off += VLAN_HLEN;
  }
  out.writeUInt16BE(etherType, off);
  return out;
}
