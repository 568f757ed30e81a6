/**
 * What a datagram became on its way to the DUT (pure): its fragments as the
 * DUT's tap captured them, reassembled. A stack that delivers exactly that
 * did its job on what it was given, even when the set-up changed the bytes
 * (two altered bytes can cancel in the UDP checksum, so it verifies).
 */
import { parseFrame } from '../../codec/index.js';
import { NicmatrixError } from '../../codec/errors.js';
import type { FrameTrace } from '../arrival.js';

/** The UDP payload of fragment frames reassembled (first copy of each byte wins), or undefined when incomplete. */
export function reassembleUdp(frames: readonly Buffer[]): Buffer | undefined {
  const parts: { offset: number; data: Buffer; more: boolean }[] = [];
  for (const f of frames) {
    const ip = parseFrame(f).ip;
    if (!ip?.fragment) return undefined;
    parts.push({ offset: ip.fragment.offset, data: f.subarray(ip.offset + ip.hdrLen, ip.offset + ip.totalLen), more: ip.fragment.more });
  }
  const last = parts.find((p) => !p.more);
  if (!last) return undefined;
  const whole = Buffer.alloc(last.offset + last.data.length);
  const filled = new Uint8Array(whole.length);
  for (const p of parts) {
    for (let i = 0; i < p.data.length && p.offset + i < whole.length; i++) {
      if (filled[p.offset + i]) continue;
      whole[p.offset + i] = p.data[i]!;
      filled[p.offset + i] = 1;
    }
  }
  if (filled.includes(0) || whole.length < 8) return undefined;
  return whole.subarray(8, Math.min(whole.length, whole.readUInt16BE(4)));
}

/**
 * Per datagram with a fragment altered before it reached the DUT: the payload
 * that reassembling the fragments as captured gives. `owner[i]` is the
 * datagram of `frames[i]`; `traces[i]` how that frame arrived.
 */
export function asArrivedPayloads(frames: readonly Buffer[], owner: readonly number[], traces: readonly FrameTrace[]): Map<number, Buffer> {
  if (owner.length !== frames.length)
    throw new NicmatrixError('INTERNAL', `asArrivedPayloads: expected an owner per frame (${frames.length}), found ${owner.length}`);
  const byDatagram = new Map<number, { frames: Buffer[]; altered: boolean }>();
  frames.forEach((f, i) => {
    const d = owner[i]!;
    const t = traces[i];
    if (d < 0 || !t) return;
    const g = byDatagram.get(d) ?? { frames: [], altered: false };
    if (t.got) {
      const at = parseFrame(f).ip?.offset ?? 0;
      g.frames.push(Buffer.concat([f.subarray(0, at), t.got]));
      g.altered = true;
    } else if (t.arrival === 'reached') g.frames.push(f);
    byDatagram.set(d, g);
  });
  const out = new Map<number, Buffer>();
  for (const [d, g] of byDatagram) {
    const payload = g.altered ? reassembleUdp(g.frames) : undefined;
    if (payload) out.set(d, payload);
  }
  return out;
}
