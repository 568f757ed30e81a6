/**
 * Ancillary data (struct cmsghdr chains) for recvmsg/sendmsg on x86_64 Linux:
 * 16-byte header {size_t cmsg_len; int level; int type}, data 8-byte aligned.
 * Pure.
 */
import { NicmatrixError } from '../codec/errors.js';

export const CMSG_HDR_SIZE = 16;

/** One control message. */
export interface Cmsg {
  level: number;
  type: number;
  data: Buffer;
}

/** CMSG_ALIGN: control messages start on 8-byte boundaries. */
export function cmsgAlign(n: number): number {
  return (n + 7) & ~7;
}

/** CMSG_SPACE: bytes one message with `dataLen` bytes of data takes in a chain. */
export function cmsgSpace(dataLen: number): number {
  return CMSG_HDR_SIZE + cmsgAlign(dataLen);
}

/** Walks the first `len` bytes of a control buffer; a truncated tail is ignored, as CMSG_NXTHDR does. */
export function parseCmsgs(control: Buffer, len: number = control.length): Cmsg[] {
  const out: Cmsg[] = [];
  let off = 0;
  while (off + CMSG_HDR_SIZE <= len) {
    const cmsgLen = Number(control.readBigUInt64LE(off));
    if (cmsgLen < CMSG_HDR_SIZE || off + cmsgLen > len) break;
    out.push({
      level: control.readInt32LE(off + 8),
      type: control.readInt32LE(off + 12),
      data: Buffer.from(control.subarray(off + CMSG_HDR_SIZE, off + cmsgLen)),
    });
    off += cmsgAlign(cmsgLen);
  }
  return out;
}

/** Builds a control buffer holding `msgs`, each padded to CMSG_SPACE. */
export function buildCmsgs(msgs: readonly Cmsg[]): Buffer {
  const b = Buffer.alloc(msgs.reduce((n, m) => n + cmsgSpace(m.data.length), 0));
  let off = 0;
  for (const m of msgs) {
    b.writeBigUInt64LE(BigInt(CMSG_HDR_SIZE + m.data.length), off);
    b.writeInt32LE(m.level, off + 8);
    b.writeInt32LE(m.type, off + 12);
    m.data.copy(b, off + CMSG_HDR_SIZE);
    off += cmsgSpace(m.data.length);
  }
  return b;
}

/** The data of the first message of `level`/`type`, or undefined. */
export function findCmsg(msgs: readonly Cmsg[], level: number, type: number): Buffer | undefined {
  return msgs.find((m) => m.level === level && m.type === type)?.data;
}

/** Data of a message that must be there and at least `min` bytes long. */
export function requireCmsg(msgs: readonly Cmsg[], level: number, type: number, min: number, what: string): Buffer {
  const d = findCmsg(msgs, level, type);
  if (!d || d.length < min) {
    throw new NicmatrixError(
      'CODEC',
      `${what}: expected a control message (level ${level}, type ${type}) of >= ${min} bytes, found ${d ? `${d.length} bytes` : 'none'}`,
    );
  }
  return d;
}
