/**
 * Classic libpcap files with nanosecond timestamps (magic 0xa1b23c4d), written
 * little-endian: Wireshark and tcpdump read either byte order by the magic.
 */

import { NicmatrixError } from '../../matrix/errors.js';

export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const LINKTYPE_ETHERNET = 1;
/** Largest frame stored whole; longer ones are cut and keep their original length. */
export const PCAP_SNAPLEN = 262144;

/** One frame to store: bytes, capture time in ns, and the length it had on the wire. */
export interface PcapFrame {
  data: Uint8Array;
  tsNs: number;
  /** Defaults to data.length (never less than the stored length). */
  origLen?: number;
}

const GLOBAL_HDR = 24;
const RECORD_HDR = 16;

/** The whole file for these frames, in the given order (timestamps exact below 2^53 ns). */
export function pcapFile(frames: readonly PcapFrame[], linktype = LINKTYPE_ETHERNET): Buffer {
  const stored = frames.map((f) => ({ f, len: Math.min(f.data.length, PCAP_SNAPLEN) }));
  const size = GLOBAL_HDR + stored.reduce((n, { len }) => n + RECORD_HDR + len, 0);
  const out = Buffer.alloc(size);
  out.writeUInt32LE(PCAP_MAGIC_NS, 0);
  out.writeUInt16LE(2, 4); // version 2.4
  out.writeUInt16LE(4, 6);
  out.writeInt32LE(0, 8); // thiszone
  out.writeUInt32LE(0, 12); // sigfigs
  out.writeUInt32LE(PCAP_SNAPLEN, 16);
  out.writeUInt32LE(linktype >>> 0, 20);
  let off = GLOBAL_HDR;
  for (const { f, len } of stored) {
    const ts = Math.max(0, Math.round(f.tsNs));
    out.writeUInt32LE(Math.floor(ts / 1e9) >>> 0, off);
    out.writeUInt32LE(ts % 1e9, off + 4);
    out.writeUInt32LE(len, off + 8);
    out.writeUInt32LE(Math.max(f.origLen ?? f.data.length, len) >>> 0, off + 12);
    out.set(f.data.subarray(0, len), off + RECORD_HDR);
    off += RECORD_HDR + len;
  }
  return out;
}

/** Reads a file written by `pcapFile` (or any classic pcap, either byte order, us or ns); for tests and tools. */
export function readPcap(buf: Buffer): { linktype: number; nanos: boolean; frames: Required<PcapFrame>[] } {
  if (buf.length < GLOBAL_HDR) throw new NicmatrixError('CODEC', `pcap: header needs ${GLOBAL_HDR} bytes, file has ${buf.length}`);
  const magicLE = buf.readUInt32LE(0);
  const magicBE = buf.readUInt32BE(0);
  const known = [0xa1b2c3d4, PCAP_MAGIC_NS];
  const le = known.includes(magicLE);
  if (!le && !known.includes(magicBE)) throw new NicmatrixError('CODEC', `pcap: unknown magic 0x${magicLE.toString(16)}`);
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const nanos = (le ? magicLE : magicBE) === PCAP_MAGIC_NS;
  const frames: Required<PcapFrame>[] = [];
  let off = GLOBAL_HDR;
  while (off + RECORD_HDR <= buf.length) {
    const incl = u32(off + 8);
    if (off + RECORD_HDR + incl > buf.length)
      throw new NicmatrixError('CODEC', `pcap: record at offset ${off} needs ${incl} bytes, ${buf.length - off - RECORD_HDR} left`);
    const tsNs = u32(off) * 1e9 + u32(off + 4) * (nanos ? 1 : 1000);
    frames.push({ data: buf.subarray(off + RECORD_HDR, off + RECORD_HDR + incl), tsNs, origLen: u32(off + 12) });
    off += RECORD_HDR + incl;
  }
  return { linktype: u32(20), nanos, frames };
}
