/**
 * Tunnel encapsulations: VXLAN (RFC 7348), GENEVE (RFC 8926) and GRE (RFC 2784,
 * key and sequence number from RFC 2890): parse, build, and the GRE checksum.
 * An encapsulated frame is parsed twice: the outer frame as any frame, then
 * the inner packet as a frame of its own (`inner`), so every verifier of the
 * codec applies to either level. GRE may carry an IP packet with no Ethernet
 * header; `inner` then starts with a made-up one (`synthesizedL2` bytes).
 */
import { checksum, fold, onesSum } from './checksum.js';
import { NicmatrixError } from './errors.js';
import { wrapL4, buildUdpFrame, type IpFrameSpec, type UdpFrameSpec } from './build.js';
import { ETH_HLEN, ETH_P_IPV4, ETH_P_IPV6, parseEthernet } from './ethernet.js';
import { parseFrame, type ParsedFrame } from './frame.js';
import { UDP_HLEN } from './udp.js';

export const IPPROTO_GRE = 47;
/** IANA VXLAN port; Linux's default is the pre-standard 8472 unless `dstport 4789` is given. */
export const VXLAN_PORT = 4789;
export const VXLAN_LINUX_PORT = 8472;
export const GENEVE_PORT = 6081;
export const VXLAN_HLEN = 8;
export const GENEVE_MIN_HLEN = 8;
/** "Transparent Ethernet Bridging": the payload is an Ethernet frame (VXLAN always, GENEVE and gretap). */
export const ETH_P_TEB = 0x6558;
/** VXLAN flags byte with only the I (valid VNI) bit. */
export const VXLAN_FLAG_I = 0x08;

export const GRE_FLAG_C = 0x8000;
export const GRE_FLAG_K = 0x2000;
export const GRE_FLAG_S = 0x1000;

export type EncapKind = 'vxlan' | 'geneve' | 'gre';

export interface GeneveOption {
  optClass: number;
  type: number;
  /** Option data (length is data.length, a multiple of 4). */
  data: Buffer;
}

export interface GreFields {
  flags: number;
  version: number;
  protocol: number;
  checksumPresent: boolean;
  keyPresent: boolean;
  seqPresent: boolean;
  /** Frame offset of the checksum field when present. */
  checksumOffset?: number;
  checksum?: number;
  key?: number;
  seq?: number;
}

export interface EncapInfo {
  kind: EncapKind;
  /** Frame offset of the tunnel header (after the outer UDP header, or after the outer IP header for GRE). */
  offset: number;
  hdrLen: number;
  /** VXLAN / GENEVE network identifier. */
  vni?: number;
  vxlanFlags?: number;
  geneve?: { version: number; oam: boolean; critical: boolean; options: GeneveOption[] };
  gre?: GreFields;
  /** EtherType of what the tunnel carries: 0x6558 (an Ethernet frame) or an IP EtherType. */
  innerProto: number;
  /** Frame offset where the carried packet starts. */
  innerOffset: number;
  /** Where the tunnel's payload ends in the frame (the outer UDP or IP end, clipped to the capture). */
  innerEnd: number;
  /** The carried packet as a frame starting with an Ethernet header. */
  inner: Buffer;
  /** 14 when `inner` starts with a made-up Ethernet header (GRE carrying IP), else 0. */
  synthesizedL2: number;
  innerParsed: ParsedFrame;
}

export interface EncapParse {
  outer: ParsedFrame;
  encap?: EncapInfo;
  error?: string;
}

export interface EncapPorts {
  vxlan?: readonly number[];
  geneve?: readonly number[];
}

const DEFAULT_PORTS: Required<EncapPorts> = { vxlan: [VXLAN_PORT, VXLAN_LINUX_PORT], geneve: [GENEVE_PORT] };

function innerFrame(buf: Uint8Array, off: number, end: number, proto: number): { inner: Buffer; synthesizedL2: number } | string {
  const body = Buffer.from(buf.subarray(off, end));
  if (proto === ETH_P_TEB) return { inner: body, synthesizedL2: 0 };
  if (proto !== ETH_P_IPV4 && proto !== ETH_P_IPV6) return `tunnel carries protocol 0x${proto.toString(16)}, neither Ethernet nor IP`;
  const l2 = Buffer.alloc(ETH_HLEN);
  l2.writeUInt16BE(proto, 12);
  return { inner: Buffer.concat([l2, body]), synthesizedL2: ETH_HLEN };
}

/** Parses a frame and, when it is VXLAN, GENEVE or GRE, what it carries; never throws. */
export function parseEncap(frame: Uint8Array, ports: EncapPorts = {}): EncapParse {
  const outer = parseFrame(frame);
  const p = { ...DEFAULT_PORTS, ...ports };
  const { ip, l4 } = outer;
  if (!ip || !l4 || ip.fragment) return { outer };
  const ipEnd = Math.min(frame.length, ip.offset + ip.totalLen);
  const b = Buffer.from(frame.buffer, frame.byteOffset, frame.length);
  let info: Omit<EncapInfo, 'inner' | 'synthesizedL2' | 'innerParsed' | 'innerEnd'>;
  let end = ipEnd;
  if (l4.kind === 'udp' && l4.udp && (p.vxlan.includes(l4.udp.dport) || p.geneve.includes(l4.udp.dport))) {
    const off = l4.offset + UDP_HLEN;
    end = Math.min(ipEnd, l4.offset + Math.max(UDP_HLEN, l4.udp.length));
    if (p.vxlan.includes(l4.udp.dport)) {
      if (end - off < VXLAN_HLEN)
        return { outer, error: `vxlan: header needs ${VXLAN_HLEN} bytes at offset ${off}, ${end - off} available` };
      info = {
        kind: 'vxlan',
        offset: off,
        hdrLen: VXLAN_HLEN,
        vxlanFlags: b[off],
        vni: b.readUInt32BE(off + 4) >>> 8,
        innerProto: ETH_P_TEB,
        innerOffset: off + VXLAN_HLEN,
      };
    } else {
      if (end - off < GENEVE_MIN_HLEN)
        return { outer, error: `geneve: header needs ${GENEVE_MIN_HLEN} bytes at offset ${off}, ${end - off} available` };
      const hdrLen = GENEVE_MIN_HLEN + (b[off]! & 0x3f) * 4;
      if (end - off < hdrLen)
        return { outer, error: `geneve: header with options needs ${hdrLen} bytes at offset ${off}, ${end - off} available` };
      const options: GeneveOption[] = [];
      for (let cur = off + GENEVE_MIN_HLEN; cur + 4 <= off + hdrLen;) {
        const len = (b[cur + 3]! & 0x1f) * 4;
        if (cur + 4 + len > off + hdrLen) return { outer, error: `geneve: option at offset ${cur} runs past the header` };
        options.push({ optClass: b.readUInt16BE(cur), type: b[cur + 2]!, data: Buffer.from(b.subarray(cur + 4, cur + 4 + len)) });
        cur += 4 + len;
      }
      info = {
        kind: 'geneve',
        offset: off,
        hdrLen,
        vni: b.readUInt32BE(off + 4) >>> 8,
        geneve: { version: b[off]! >> 6, oam: (b[off + 1]! & 0x80) !== 0, critical: (b[off + 1]! & 0x40) !== 0, options },
        innerProto: b.readUInt16BE(off + 2),
        innerOffset: off + hdrLen,
      };
    }
  } else if (ip.proto === IPPROTO_GRE) {
    const off = l4.offset;
    if (ipEnd - off < 4) return { outer, error: `gre: header needs 4 bytes at offset ${off}, ${ipEnd - off} available` };
    const flags = b.readUInt16BE(off);
    const gre: GreFields = {
      flags,
      version: flags & 7,
      protocol: b.readUInt16BE(off + 2),
      checksumPresent: (flags & GRE_FLAG_C) !== 0,
      keyPresent: (flags & GRE_FLAG_K) !== 0,
      seqPresent: (flags & GRE_FLAG_S) !== 0,
    };
    const hdrLen = 4 + (gre.checksumPresent ? 4 : 0) + (gre.keyPresent ? 4 : 0) + (gre.seqPresent ? 4 : 0);
    if (ipEnd - off < hdrLen)
      return { outer, error: `gre: header with its options needs ${hdrLen} bytes at offset ${off}, ${ipEnd - off} available` };
    let cur = off + 4;
    if (gre.checksumPresent) {
      gre.checksumOffset = cur;
      gre.checksum = b.readUInt16BE(cur);
      cur += 4;
    }
    if (gre.keyPresent) {
      gre.key = b.readUInt32BE(cur);
      cur += 4;
    }
    if (gre.seqPresent) gre.seq = b.readUInt32BE(cur);
    info = { kind: 'gre', offset: off, hdrLen, gre, innerProto: gre.protocol, innerOffset: off + hdrLen };
  } else {
    return { outer };
  }
  const inner = innerFrame(frame, info.innerOffset, end, info.innerProto);
  if (typeof inner === 'string') return { outer, error: `${info.kind}: ${inner}` };
  return { outer, encap: { ...info, innerEnd: end, ...inner, innerParsed: parseFrame(inner.inner) } };
}

/** Maps an offset in the outer frame into `encap.inner` (for csum_start of a partial inner checksum). */
export function innerOffsetOf(encap: EncapInfo, outerOffset: number): number {
  return outerOffset - encap.innerOffset + encap.synthesizedL2;
}

/** Verdict on a GRE checksum: absent, good, or bad (with the value a correct sender writes). */
export function verifyGreChecksum(
  frame: Uint8Array,
  encap: EncapInfo,
): { state: 'absent' | 'good' | 'bad'; expected: number; found: number } {
  const g = encap.gre;
  if (!g?.checksumPresent || g.checksumOffset === undefined || g.checksum === undefined)
    return { state: 'absent', expected: -1, found: -1 };
  const f = g.checksumOffset;
  const ok = fold(onesSum(frame, encap.offset, encap.innerEnd)) === 0xffff;
  const expected = ~fold(onesSum(frame, f + 2, encap.innerEnd, onesSum(frame, encap.offset, f))) & 0xffff;
  return { state: ok ? 'good' : 'bad', expected, found: g.checksum };
}

/** An 8-byte VXLAN header. */
export function buildVxlanHeader(vni: number, flags = VXLAN_FLAG_I): Buffer {
  if (!Number.isInteger(vni) || vni < 0 || vni > 0xffffff) throw new NicmatrixError('CODEC', `vxlan: expected a 24-bit VNI, found ${vni}`);
  const h = Buffer.alloc(VXLAN_HLEN);
  h[0] = flags;
  h.writeUInt32BE((vni << 8) >>> 0, 4);
  return h;
}

export interface GeneveSpec {
  vni: number;
  protocol?: number;
  oam?: boolean;
  critical?: boolean;
  options?: readonly GeneveOption[];
}

/** A GENEVE header with its options (each option's data a multiple of 4 bytes, at most 124). */
export function buildGeneveHeader(s: GeneveSpec): Buffer {
  if (!Number.isInteger(s.vni) || s.vni < 0 || s.vni > 0xffffff)
    throw new NicmatrixError('CODEC', `geneve: expected a 24-bit VNI, found ${s.vni}`);
  const opts = (s.options ?? []).map((o) => {
    if (o.data.length % 4 !== 0 || o.data.length > 124)
      throw new NicmatrixError('CODEC', `geneve: option data must be a multiple of 4 bytes up to 124, found ${o.data.length}`);
    const h = Buffer.alloc(4);
    h.writeUInt16BE(o.optClass, 0);
    h[2] = o.type;
    h[3] = o.data.length / 4;
    return Buffer.concat([h, o.data]);
  });
  const optLen = opts.reduce((n, o) => n + o.length, 0);
  if (optLen > 63 * 4) throw new NicmatrixError('CODEC', `geneve: options take at most 252 bytes, found ${optLen}`);
  const h = Buffer.alloc(GENEVE_MIN_HLEN);
  h[0] = optLen / 4;
  h[1] = (s.oam ? 0x80 : 0) | (s.critical ? 0x40 : 0);
  h.writeUInt16BE(s.protocol ?? ETH_P_TEB, 2);
  h.writeUInt32BE((s.vni << 8) >>> 0, 4);
  return Buffer.concat([h, ...opts]);
}

export interface GreSpec {
  protocol: number;
  /** Carry a checksum: 'correct', a literal value, or absent (undefined / false). */
  checksum?: 'correct' | number | false;
  key?: number;
  seq?: number;
}

/** A GRE packet: header (+ checksum, key, sequence) and payload, checksum filled when asked. */
export function buildGrePacket(s: GreSpec, payload: Uint8Array): Buffer {
  const withCsum = s.checksum !== undefined && s.checksum !== false;
  const h = Buffer.alloc(4 + (withCsum ? 4 : 0) + (s.key !== undefined ? 4 : 0) + (s.seq !== undefined ? 4 : 0));
  h.writeUInt16BE((withCsum ? GRE_FLAG_C : 0) | (s.key !== undefined ? GRE_FLAG_K : 0) | (s.seq !== undefined ? GRE_FLAG_S : 0), 0);
  h.writeUInt16BE(s.protocol, 2);
  let cur = withCsum ? 8 : 4;
  if (s.key !== undefined) {
    h.writeUInt32BE(s.key >>> 0, cur);
    cur += 4;
  }
  if (s.seq !== undefined) h.writeUInt32BE(s.seq >>> 0, cur);
  const pkt = Buffer.concat([h, payload]);
  if (withCsum) pkt.writeUInt16BE(s.checksum === 'correct' ? checksum(pkt) : (s.checksum as number), 4);
  return pkt;
}

/** The IP packet of an Ethernet frame (what an L3 GRE tunnel carries). */
export function ipPacketOf(frame: Uint8Array): Buffer {
  const e = parseEthernet(frame);
  if (!e.eth) throw new NicmatrixError('CODEC', `ipPacketOf: ${e.error ?? 'no Ethernet header'}`);
  return Buffer.from(frame.subarray(e.eth.payloadOffset));
}

export type VxlanFrameSpec = Omit<UdpFrameSpec, 'payload' | 'dport'> & { dport?: number; vni: number; inner: Uint8Array };

/** Outer Ethernet/IP/UDP + VXLAN + the inner Ethernet frame; the outer UDP checksum per `checksum`. */
export function buildVxlanFrame(s: VxlanFrameSpec): Buffer {
  return buildUdpFrame({ ...s, dport: s.dport ?? VXLAN_PORT, payload: Buffer.concat([buildVxlanHeader(s.vni), s.inner]) });
}

export type GeneveFrameSpec = Omit<UdpFrameSpec, 'payload' | 'dport'> & { dport?: number; geneve: GeneveSpec; inner: Uint8Array };

/** Outer Ethernet/IP/UDP + GENEVE + the inner frame (an Ethernet frame unless `geneve.protocol` says otherwise). */
export function buildGeneveFrame(s: GeneveFrameSpec): Buffer {
  return buildUdpFrame({ ...s, dport: s.dport ?? GENEVE_PORT, payload: Buffer.concat([buildGeneveHeader(s.geneve), s.inner]) });
}

export type GreFrameSpec = Omit<IpFrameSpec, 'payload' | 'checksum'> & { gre: GreSpec; inner: Uint8Array };

/** Outer Ethernet/IP + GRE + the inner packet (an IP packet for protocol 0x0800/0x86DD, an Ethernet frame for 0x6558). */
export function buildGreFrame(s: GreFrameSpec): Buffer {
  return wrapL4(s, IPPROTO_GRE, buildGrePacket(s.gre, s.inner));
}
