/** How MSG_ZEROCOPY sessions cut their data into send calls and datagrams. Pure. */

/** Odd and page-edge call sizes first, so completions cover tiny, page ±1 and multi-segment sends. */
const EDGE_LENGTHS = [1, 4095, 4096, 4097, 65535, 65536, 65537, 100_000];
export const ZC_CHUNK = 65536;

/** Send-call lengths summing to `total`: the edge sizes that fit, then ZC_CHUNK-sized calls. */
export function zerocopyLengths(total: number): number[] {
  const out: number[] = [];
  let left = total;
  for (const n of EDGE_LENGTHS) {
    if (n > left) break;
    out.push(n);
    left -= n;
  }
  while (left > 0) {
    const n = Math.min(ZC_CHUNK, left);
    out.push(n);
    left -= n;
  }
  return out;
}

/** UDP payload that fits one frame of `mtu` (no IP fragmentation), at most 1400 bytes. */
export function udpDatagramSize(mtu: number, family: 4 | 6): number {
  return Math.max(1, Math.min(1400, mtu - (family === 4 ? 20 : 40) - 8));
}

/** TCP's MSS on a path of `mtu`: IP and TCP headers and the 12-byte timestamp option Linux negotiates by default. */
export function plannedMss(mtu: number, family: 4 | 6): number {
  return mtu - (family === 4 ? 20 : 40) - 20 - 12;
}

/**
 * About `total` bytes in sends of whole `mss` segments, at most 64 KiB each:
 * every frame then carries a full segment, never a short one a driver may
 * copy into its own ring by design (vmxnet3 copies frames up to 128 bytes).
 */
export function fullSegmentLengths(mss: number, total: number): number[] {
  const per = Math.max(1, Math.floor(65536 / mss)) * mss;
  return new Array<number>(Math.max(1, Math.round(total / per))).fill(per);
}
