/**
 * Byte-exact judging of hand-made frames (pure): the wire must carry exactly
 * the frame we sent with its checksum completed at csum_start/csum_offset, or,
 * delivered CHECKSUM_PARTIAL, the frame we sent unchanged.
 */
import { completePartial } from '../../codec/index.js';
import { sameOnesComplement } from '../../codec/checksum.js';
import { paddedLength } from '../frame-shape.js';
import type { WireFrame } from '../wire.js';
import type { FrameTally } from './judge.js';

export interface SentFrame {
  frame: Buffer;
  csumStart: number;
  csumOffset: number;
  /** A UDP datagram's payload that an ordinary socket of the peer must receive. */
  socketPayload?: Buffer;
}

/** The frame as the DUT handed it over: a tag the receiver stripped into metadata goes back in. */
export function retag(f: WireFrame): { data: Buffer; shift: number } {
  if (f.vlanTci === undefined) return { data: f.data, shift: 0 };
  const tag = Buffer.alloc(4);
  tag.writeUInt16BE(f.raw.vlanTpid || 0x8100, 0);
  tag.writeUInt16BE(f.vlanTci, 2);
  return { data: Buffer.concat([f.data.subarray(0, 12), tag, f.data.subarray(12)]), shift: 4 };
}

function equalOutside(a: Buffer, b: Buffer, field: number): boolean {
  if (a.length < b.length) return false;
  return a.subarray(0, field).equals(b.subarray(0, field)) && a.subarray(field + 2, b.length).equals(b.subarray(field + 2));
}

/** The frame is the start of `s` (the checksum field, which may have been filled, aside). */
function prefixOutside(s: SentFrame, data: Buffer): boolean {
  const field = s.csumStart + s.csumOffset;
  for (let i = 0; i < data.length; i++) if (i !== field && i !== field + 1 && data[i] !== s.frame[i]) return false;
  return data.length >= Math.min(s.frame.length, 14);
}

/** Names the bytes that differ from the most similar frame sent, so a misplaced checksum shows itself. */
function closest(sent: readonly SentFrame[], taken: Set<number>, data: Buffer): string {
  let best: { s: SentFrame; diffs: number[] } | undefined;
  sent.forEach((s, k) => {
    if (taken.has(k) || s.frame.length > data.length) return;
    const diffs: number[] = [];
    for (let i = 0; i < s.frame.length && diffs.length <= 16; i++) if (s.frame[i] !== data[i]) diffs.push(i);
    if (!best || diffs.length < best.diffs.length) best = { s, diffs };
  });
  if (!best || best.diffs.length > 16) return 'bytes outside the checksum field changed';
  const { s } = best;
  return `closest frame sent (csum_start ${s.csumStart}, csum_offset ${s.csumOffset}, field at ${s.csumStart + s.csumOffset}) differs at byte(s) ${best.diffs.join(', ')}`;
}

/** Matches every captured frame to one sent frame and judges its checksum field. */
export function judgeExact(
  sent: readonly SentFrame[],
  frames: readonly WireFrame[],
): { tally: FrameTally; missing: number; paddingLeaks: number } {
  const tally: FrameTally = { frames: frames.length, complete: 0, partial: 0, faults: [] };
  const taken = new Set<number>();
  let paddingLeaks = 0;
  for (const f of frames) {
    const { data, shift } = retag(f);
    const i = sent.findIndex((s, k) => !taken.has(k) && equalOutside(data, s.frame, s.csumStart + s.csumOffset));
    const s = sent[i];
    if (s === undefined) {
      const cut = sent.findIndex((s, k) => !taken.has(k) && data.length < s.frame.length && prefixOutside(s, data));
      const c = sent[cut];
      if (c !== undefined) {
        taken.add(cut);
        tally.faults.push({ index: f.index, reason: `truncated: ${data.length} of the ${c.frame.length} bytes sent arrived` });
        continue;
      }
      tally.faults.push({ index: f.index, reason: `frame of ${data.length} bytes matches no frame sent: ${closest(sent, taken, data)}` });
      continue;
    }
    taken.add(i);
    const field = s.csumStart + s.csumOffset;
    // Bytes past the frame sent are padding only up to the minimum frame; beyond it the length is wrong.
    if (data.length > Math.max(s.frame.length, paddedLength(f))) {
      tally.faults.push({ index: f.index, reason: `wrong length: ${data.length} bytes arrived for a ${s.frame.length}-byte frame sent` });
      continue;
    }
    if (data.length > s.frame.length && data.subarray(s.frame.length).some((b) => b !== 0)) paddingLeaks++;
    const found = data.readUInt16BE(field);
    if (f.partial) {
      const start = f.csumStart === undefined ? undefined : f.csumStart + shift;
      if (start !== undefined && (start !== s.csumStart || f.csumOffset !== s.csumOffset)) {
        tally.faults.push({
          index: f.index,
          reason: `arrived CHECKSUM_PARTIAL with csum_start ${start}/csum_offset ${f.csumOffset}, sent ${s.csumStart}/${s.csumOffset}`,
        });
      } else if (found !== s.frame.readUInt16BE(field)) {
        tally.faults.push({
          index: f.index,
          reason: `arrived CHECKSUM_PARTIAL but its seed changed from 0x${s.frame.readUInt16BE(field).toString(16)} to 0x${found.toString(16)}`,
        });
      } else tally.partial++;
      continue;
    }
    const expected = completePartial(s.frame, s.csumStart, s.csumOffset).readUInt16BE(field);
    if (sameOnesComplement(found, expected)) tally.complete++;
    else
      tally.faults.push({
        index: f.index,
        reason: `checksum at offset ${field} (csum_start ${s.csumStart}, csum_offset ${s.csumOffset}) is 0x${found.toString(16)}, expected 0x${expected.toString(16)}`,
      });
  }
  // A frame that arrived altered is counted once, as altered, not again as missing.
  const altered = tally.faults.filter((f) => f.reason.includes('matches no frame sent')).length;
  return { tally, missing: Math.max(0, sent.length - taken.size - altered), paddingLeaks };
}
