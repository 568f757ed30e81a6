/**
 * Ethernet padding of short frames (pure): the bytes a sender adds to reach
 * the 60-byte minimum must be zero, or they leak memory onto the wire (the
 * "etherleak" information leak, CVE-2003-0001).
 */
import { ETH_ZLEN } from '../../codec/index.js';
import { frameShapeFault } from '../frame-shape.js';
import type { FrameFault } from '../tx-csum/judge.js';
import type { WireFrame } from '../wire.js';

export interface PaddingTally {
  /** Short frames of the flows: their IP packet ends before byte 60. */
  short: number;
  /** Short frames that arrived padded (a virtual link may carry them unpadded). */
  padded: number;
  /** Short frames that arrived shorter than the minimum frame. */
  unpadded: number;
  faults: FrameFault[];
}

/** Offsets (frame-relative) of the non-zero bytes after the IP packet, at most `max`. */
export function nonZeroTrailer(f: WireFrame, max = 16): number[] {
  const ip = f.parsed.ip;
  if (!ip) return [];
  const out: number[] = [];
  for (let i = ip.offset + ip.totalLen; i < f.data.length && out.length < max; i++) if (f.data[i] !== 0) out.push(i);
  return out;
}

export function judgePadding(frames: readonly WireFrame[]): PaddingTally {
  const t: PaddingTally = { short: 0, padded: 0, unpadded: 0, faults: [] };
  for (const f of frames) {
    const ip = f.parsed.ip;
    if (!ip) continue;
    const shape = frameShapeFault(f);
    // A wrong length is a fault of its own; padding is only judged on frames whose lengths agree.
    if (shape && shape.kind !== 'ip-header-checksum') {
      t.faults.push({ index: f.index, reason: shape.reason });
      continue;
    }
    if (ip.offset + ip.totalLen >= ETH_ZLEN) continue;
    t.short++;
    if (f.parsed.trailer === 0) {
      t.unpadded++;
      continue;
    }
    t.padded++;
    const leaked = nonZeroTrailer(f);
    if (leaked.length > 0) {
      const bytes = leaked.map((i) => `${i}:0x${f.data[i]!.toString(16).padStart(2, '0')}`).join(', ');
      t.faults.push({ index: f.index, reason: `non-zero padding after the ${ip.totalLen}-byte IP packet at byte(s) ${bytes}` });
    }
  }
  return t;
}
