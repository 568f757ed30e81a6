/**
 * Proof that injected frames reached the DUT, and whose loss it is when they
 * did not (pure). Each frame the peer was asked to send is traced from the
 * peer's egress tap to the DUT's tap (AF_PACKET taps see frames before the
 * stack), byte for byte over the IP packet. What did not arrive is the
 * harness's when it never left the peer or left it already changed, the
 * DUT's when it left the peer intact, and unproven when a capture itself lost
 * frames.
 */
import { createHash } from 'node:crypto';
import type { Status } from '../../matrix/record.js';
import { wireBits } from '../agent/pace.js';
import { NicmatrixError } from '../codec/errors.js';
import { parseFrame } from '../codec/index.js';
import type { WireFrame } from './wire.js';

export type Arrival =
  /** The DUT's tap saw it, byte for byte. */
  | 'reached'
  /** The peer's egress never carried it: lost before the wire (the harness's loss). */
  | 'not-sent'
  /** It left the peer already with other bytes (the harness's egress changed it). */
  | 'altered-at-peer'
  /** It left the peer intact and reached the DUT's tap with other bytes. */
  | 'altered'
  /** It left the peer intact and never reached the DUT's tap. */
  | 'lost'
  /** Not at the DUT's tap, and a capture lost frames in its buffer: arrival cannot be told. */
  | 'unproven';

export interface FrameTrace {
  arrival: Arrival;
  /** Frame offsets of the differing bytes, for an altered arrival. */
  offsets?: number[];
  /** The IP packet as the DUT's tap captured it, for an altered arrival (what the DUT had to work with). */
  got?: Buffer;
}

export interface ArrivalInput {
  /** The frames sent (a frame sent twice on purpose appears twice). */
  frames: readonly Buffer[];
  /** What left the peer (its egress tap) and what the DUT's tap received. */
  peerOut: readonly WireFrame[];
  dutIn: readonly WireFrame[];
  /** Frames each capture lost in its kernel buffer. */
  peerDropped: number;
  dutDropped: number;
}

/** Bytes that may differ for a captured frame to count as an altered copy of a sent one rather than another frame. */
export const MAX_ALTERED_BYTES = 16;

interface IpRegion {
  /** Frame offset of the IP header. */
  at: number;
  bytes: Buffer;
  key: string;
}

/** The IP packet of a frame (tags and padding left out) and its hash; a non-IP frame is taken whole. */
export function ipRegion(frame: Buffer): IpRegion {
  const p = parseFrame(frame);
  const at = p.ip ? p.ip.offset : 0;
  const bytes = p.ip ? frame.subarray(at, Math.min(frame.length, at + p.ip.totalLen)) : frame;
  return { at, bytes, key: createHash('sha1').update(bytes).digest('hex') };
}

/** Offsets (in the sent region) where a captured region differs, or undefined past `max` differences. */
function differences(sent: Buffer, got: Buffer, max: number): number[] | undefined {
  const out: number[] = [];
  const n = Math.max(sent.length, got.length);
  for (let i = 0; i < n; i++) {
    if (sent[i] !== got[i]) {
      out.push(i);
      if (out.length > max) return undefined;
    }
  }
  return out;
}

/** Captured frames of no sent frame, by key, with their regions. */
function strays(captured: readonly WireFrame[], sentKeys: ReadonlySet<string>): IpRegion[] {
  return captured.map((f) => ipRegion(f.data)).filter((r) => !sentKeys.has(r.key));
}

/** The stray closest to `sent` (fewest differing bytes, same IP version), consumed from the list. */
function takeNearest(sent: IpRegion, pool: IpRegion[]): { region: IpRegion; offsets: number[] } | undefined {
  let best: { k: number; offsets: number[] } | undefined;
  pool.forEach((r, k) => {
    if (r.bytes.length === 0 || sent.bytes.length === 0 || r.bytes[0]! >> 4 !== sent.bytes[0]! >> 4) return;
    const d = differences(sent.bytes, r.bytes, best ? best.offsets.length - 1 : MAX_ALTERED_BYTES);
    if (d && d.length > 0) best = { k, offsets: d };
  });
  if (!best) return undefined;
  // best.k is an index pool.forEach gave just above.
  const region = pool.splice(best.k, 1)[0]!;
  return { region, offsets: best.offsets.map((o) => o + sent.at) };
}

/** Traces every sent frame from the peer's egress to the DUT's tap. */
export function traceArrivals(input: ArrivalInput): FrameTrace[] {
  const regions = input.frames.map(ipRegion);
  const keys = new Set(regions.map((r) => r.key));
  const count = (captured: readonly WireFrame[]) => {
    const m = new Map<string, number>();
    for (const f of captured) {
      const k = ipRegion(f.data).key;
      if (keys.has(k)) m.set(k, (m.get(k) ?? 0) + 1);
    }
    return m;
  };
  const atDut = count(input.dutIn);
  const atPeer = count(input.peerOut);
  const dutStrays = strays(input.dutIn, keys);
  const peerStrays = strays(input.peerOut, keys);
  // Copies of one frame are interchangeable: each sighting accounts for one copy, the first ones first.
  const used = new Map<string, number>();
  return regions.map((r) => {
    const n = used.get(r.key) ?? 0;
    used.set(r.key, n + 1);
    if (n < (atDut.get(r.key) ?? 0)) return { arrival: 'reached' };
    const leftIntact = n < (atPeer.get(r.key) ?? 0);
    const near = takeNearest(r, dutStrays);
    if (near) {
      // The same altered bytes on the peer's egress: they were changed before they left.
      const k = peerStrays.findIndex((p) => p.key === near.region.key);
      if (k >= 0 && !leftIntact) {
        peerStrays.splice(k, 1);
        return { arrival: 'altered-at-peer', offsets: near.offsets, got: near.region.bytes };
      }
      return { arrival: 'altered', offsets: near.offsets, got: near.region.bytes };
    }
    if (leftIntact) return { arrival: input.dutDropped > 0 ? 'unproven' : 'lost' };
    const atPeerAltered = takeNearest(r, peerStrays);
    if (atPeerAltered) return { arrival: 'altered-at-peer', offsets: atPeerAltered.offsets };
    return { arrival: input.peerDropped > 0 || input.dutDropped > 0 ? 'unproven' : 'not-sent' };
  });
}

/** Counter names that say a frame was dropped for want of room or time (rings, FIFOs, buffers, queues). */
const LOSS_COUNTER = /drop|miss|fifo|no_?buf|nobuf|over|discard|lost|alloc_fail|busy/i;

/**
 * The loss counters that rose, from `ethtool -S` and `ip -s link` deltas, on
 * the receive (`rx`) or transmit (`tx`) side: names are matched by pattern,
 * since every driver names its own.
 */
export function lossCounters(delta: Readonly<Record<string, number>>, dir: 'rx' | 'tx'): Record<string, number> {
  const other = dir === 'rx' ? /(^|[._])tx(_|\d|$)/i : /(^|[._])rx(_|\d|$)/i;
  return Object.fromEntries(Object.entries(delta).filter(([k, v]) => v > 0 && LOSS_COUNTER.test(k) && !other.test(k)));
}

/**
 * Counters of a receiver that had no room (its ring or FIFO full, no buffer
 * posted): the device saying it was too slow for the rate, not that it
 * discarded a frame it judged. A generic `rx_dropped` is not one of them.
 */
const OVERRUN_COUNTER = /miss|fifo|no_?buf|nobuf|over(run|_err|flow)|ring_full/i;

/** The receive-overrun counters among a side's counters, with their values: frames they count never reach a tap. */
export function overrunCounters(c: Readonly<Record<string, number>>): Record<string, number> {
  const tx = /(^|[._])tx(_|\d|$)/i;
  return Object.fromEntries(Object.entries(c).filter(([k]) => OVERRUN_COUNTER.test(k) && !tx.test(k)));
}

function overrunOnly(c: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(c).filter(([k, v]) => v > 0 && OVERRUN_COUNTER.test(k)));
}

/** The most any one overrun counter rose (ethtool -S and ip -s link often count the same overrun twice). */
function overrunCount(c: Readonly<Record<string, number>>): number {
  return Object.values(overrunOnly(c)).reduce((a, b) => Math.max(a, b), 0);
}

/** A frame-arrival fault: `error` when the harness lost or changed the frames, `fail` when the DUT did. */
export interface ArrivalFault {
  status: Extract<Status, 'fail' | 'error'>;
  kind: Exclude<Arrival, 'reached'>;
  count: number;
  detail: string;
  /** Indexes (into the sent frames) concerned. */
  frames: number[];
}

function offsetsText(traces: readonly FrameTrace[], idx: readonly number[]): string {
  // Called with the non-empty, checked indexes of arrivalFaults.
  const first = idx[0]!;
  const o = traces[first]!.offsets ?? [];
  return `frame ${first} differs at offset${o.length > 1 ? 's' : ''} ${o.slice(0, 8).join(', ')}${o.length > 8 ? '…' : ''}`;
}

function countersText(c: Readonly<Record<string, number>>): string {
  const e = Object.entries(c);
  return e.length > 0 ? e.map(([k, v]) => `${k} +${v}`).join(', ') : 'no drop counter of the DUT rose';
}

/**
 * The faults of the frames in `must` (indexes that had to reach the DUT) that
 * did not. `dutLoss`: the DUT's receive loss counters over the injection;
 * `peerLoss`: the peer's transmit loss counters. Frames lost after the peer's
 * tap while its own transmit path counted as many drops (a tap device whose
 * queue to a slow guest overflowed) and the DUT counted none are the set-up's;
 * frames the DUT's own receive-overrun counters account for were dropped
 * under load: `error`, the slow device neither called broken nor excused silently.
 */
export function arrivalFaults(
  traces: readonly FrameTrace[],
  must: readonly number[],
  dutLoss: Readonly<Record<string, number>>,
  captureDropped: { dut: number; peer: number },
  peerLoss: Readonly<Record<string, number>> = {},
): ArrivalFault[] {
  const outside = must.find((i) => traces[i] === undefined);
  if (outside !== undefined)
    throw new NicmatrixError('INTERNAL', `arrivalFaults: expected frame indexes below ${traces.length}, found ${outside}`);
  const of = (a: Arrival) => must.filter((i) => traces[i]!.arrival === a);
  const out: ArrivalFault[] = [];
  const add = (status: ArrivalFault['status'], kind: ArrivalFault['kind'], detail: (idx: number[]) => string) => {
    const idx = of(kind);
    if (idx.length > 0) out.push({ status, kind, count: idx.length, detail: detail(idx), frames: idx });
  };
  add('fail', 'altered', (i) => `reached the DUT's capture with bytes the peer did not send (${offsetsText(traces, i)})`);
  const peerDrops = Object.values(peerLoss).reduce((a, b) => Math.max(a, b), 0);
  const lostAtPeer = Object.keys(dutLoss).length === 0 && peerDrops >= of('lost').length;
  if (lostAtPeer)
    add(
      'error',
      'lost',
      () =>
        `left the peer's capture but its own transmit path dropped as many (${Object.entries(peerLoss)
          .map(([k, v]) => `${k} +${v}`)
          .join(', ')}): set-up loss, the DUT was not judged on them`,
    );
  else if (overrunCount(dutLoss) >= of('lost').length)
    add(
      'error',
      'lost',
      () =>
        `left the peer intact and the DUT dropped them under load: its own receive-overrun counters rose by as many (${countersText(overrunOnly(dutLoss))}): a receiver too slow for the rate it was sent, not wrong data; the DUT was not judged on them`,
    );
  else
    add('fail', 'lost', () => `left the peer intact but never reached the DUT's capture: lost inside the DUT (${countersText(dutLoss)})`);
  add('error', 'not-sent', () => 'never left the peer (not on its egress capture): set-up loss, the DUT was not judged on them');
  add(
    'error',
    'altered-at-peer',
    (i) => `left the peer already altered (${offsetsText(traces, i)}): set-up fault, the DUT was not judged on them`,
  );
  add(
    'error',
    'unproven',
    () =>
      `are not in the DUT's capture, and the captures lost frames in their buffers (DUT ${captureDropped.dut}, peer ${captureDropped.peer}): arrival unproven`,
  );
  return out;
}

/** How many frames met each fate, for evidence. */
export function arrivalCounts(traces: readonly FrameTrace[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of traces) out[t.arrival] = (out[t.arrival] ?? 0) + 1;
  return out;
}

/**
 * Frames that left faster than the link carries (pure): each one started less
 * than half its predecessor's wire time at `mbps` after it (a kernel sends a
 * datagram's fragments back to back, whatever the link). A capture's
 * timestamps restart with each capture: a step back starts a new train.
 */
export function overRate(frames: readonly WireFrame[], mbps: number | null): boolean[] {
  return frames.map((f, i) => {
    const prev = frames[i - 1];
    if (mbps === null || prev === undefined) return false;
    const gapNs = f.raw.tsNs - prev.raw.tsNs;
    // bits / (Mb/s) = µs.
    const wireNs = (wireBits(prev.data.length) / mbps) * 1000;
    return gapNs >= 0 && gapNs < wireNs / 2;
  });
}
