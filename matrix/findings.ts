/**
 * The finding of a broken cell in one sentence a human can read, read off
 * the offending frames' evidence: where a misplaced checksum landed and
 * what that says about the device. Falls back to the failing variant's
 * message. Pure.
 */
import type { LevelVariant } from './levels.js';

/** One frame that differs from the closest frame sent, as the TX judges describe it. */
export interface Misplacement {
  csumStart: number;
  csumOffset: number;
  /** Where the checksum belonged. */
  field: number;
  /** Bytes of the frame that differ from the frame sent. */
  diffs: number[];
}

const MISPLACED = /csum_start (\d+), csum_offset (\d+), field at (\d+)\) differs at byte\(s\) ([\d, ]+)/;

export function misplacement(reason: string): Misplacement | undefined {
  const m = MISPLACED.exec(reason);
  if (!m) return undefined;
  return {
    csumStart: Number(m[1]),
    csumOffset: Number(m[2]),
    field: Number(m[3]),
    // Group 4 is not optional: the match holds it.
    diffs: m[4]!
      .split(',')
      .map((x) => Number(x.trim()))
      .filter((x) => Number.isFinite(x)),
  };
}

function framesOf(v: LevelVariant): { hex: string; reason: string }[] {
  const e = v.evidence;
  const own = Array.isArray(e.frames) ? e.frames : [];
  const parts = Array.isArray(e.parts)
    ? (e.parts as { frames?: unknown }[]).flatMap((p) => (Array.isArray(p?.frames) ? p.frames : []))
    : [];
  return [...own, ...parts].filter((f): f is { hex: string; reason: string } => typeof f?.reason === 'string');
}

/** "15 of 100 frames" from a judge's message, when it says so. */
function howMany(message: string): string {
  const m = /(\d+) of (\d+) frames/.exec(message);
  return m ? ` (${m[1]} of ${m[2]} frames)` : '';
}

/** The one-sentence finding of a failing variant. */
export function findingOf(check: string, v: LevelVariant): string {
  const moved = framesOf(v)
    .map((f) => misplacement(f.reason))
    .filter((m): m is Misplacement => m !== undefined);
  const ex = moved[0];
  if (ex) {
    const truncated = moved.every(
      (m) => m.field > 255 && m.diffs.length > 0 && m.diffs.every((d) => d === m.field % 256 || d === (m.field % 256) + 1),
    );
    if (truncated) {
      const starts = moved.map((m) => m.csumStart);
      return (
        `The device writes the checksum at its offset modulo 256 when csum_start is above 255 — an 8-bit field truncated: ` +
        `for csum_start ${ex.csumStart} + csum_offset ${ex.csumOffset} it wrote byte ${ex.field % 256} instead of ${ex.field}` +
        `${howMany(v.message)}; csum_start of the wrong frames: ${Math.min(...starts)}–${Math.max(...starts)}.`
      );
    }
    return `The device altered bytes ${ex.diffs.slice(0, 4).join(', ')} of a frame whose checksum belonged at byte ${ex.field} (csum_start ${ex.csumStart})${howMany(v.message)}.`;
  }
  // split gives one piece at least.
  const first = v.message.split('\n')[0]!.trim();
  return `${check} [${v.variant}] failed: ${first || 'no message'}`;
}
