/**
 * CRC32c (Castagnoli, RFC 3309; SCTP's checksum since RFC 4960 appendix B):
 * reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF.
 */
import { NicmatrixError } from '../../matrix/errors.js';

const POLY_REFLECTED = 0x82f63b78;

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY_REFLECTED : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * CRC32c of buf[start, end). `previous` continues an earlier result (the CRC of
 * the bytes before), so a buffer may be summed in pieces.
 */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length, previous = 0): number {
  if (start < 0 || end > buf.length || start > end) {
    throw new NicmatrixError('CODEC', `crc32c: expected 0 <= start <= end <= ${buf.length}, found start=${start} end=${end}`);
  }
  let c = ~previous >>> 0;
  for (let i = start; i < end; i++) c = TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
