/**
 * Verdict rules for reassembly (pure): which datagrams the receiving socket
 * got, byte for byte, against what each datagram allowed, and which kernel
 * counters had to move.
 */
import { canonicalIp, parseFrame } from '../../codec/index.js';
import { NicmatrixError } from '../../codec/errors.js';
import { arrivalFaults, type Arrival, type FrameTrace } from '../arrival.js';
import { frameShapeFaults } from '../frame-shape.js';
import type { WireFrame } from '../wire.js';
import type { DeliveredDatagram } from '../delivered.js';
import type { FragDatagram } from './plan.js';

/** What the judge needs of a datagram: its bytes, its source, and what may be delivered of it. */
export type ExpectedDatagram = Pick<FragDatagram, 'index' | 'family' | 'payload' | 'expect' | 'readings' | 'src' | 'sport'>;

export type FragFaultKind =
  | 'missing'
  | 'delivered-bad'
  | 'corrupt'
  | 'duplicate'
  | 'uncounted'
  /** Frames that had to reach the DUT's tap and did not (arrival.ts). */
  | Exclude<Arrival, 'reached'>
  /** Frames a sender put on the wire malformed (transmit): wrong length, truncated, wrong IPv4 header checksum. */
  | 'wrong-length'
  | 'truncated'
  | 'bad-ip-checksum'
  /** The same fragment on the wire more than once: a sender never repeats one, a duplicating device does. */
  | 'fragment-copies';

export interface FragFault {
  kind: FragFaultKind;
  /** `error`: the harness's fault (frames lost or altered on its side); otherwise the DUT's. */
  status?: 'error';
  count: number;
  detail: string;
}

export interface FragTally {
  datagrams: number;
  delivered: number;
  /** Per datagram: what became of it ('dropped', 'delivered', or 'reading N' for an overlap). */
  fate: string[];
  faults: FragFault[];
}

/** First byte where two buffers differ (or the shorter length), for messages. */
export function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

/** The datagram a stray delivery most likely was: same length first, else the closest length. */
function nearest(datagrams: readonly ExpectedDatagram[], got: Buffer): ExpectedDatagram | undefined {
  return [...datagrams].sort((x, y) => Math.abs(x.payload.length - got.length) - Math.abs(y.payload.length - got.length))[0];
}

/**
 * `notArrived`: datagrams some of whose fragments never reached the DUT (proven
 * by the captures): not delivering them is no fault of the stack, and dropping
 * them proves nothing; the arrival faults say what became of the fragments.
 * `asArrived`: per datagram whose fragments reached the DUT altered, the
 * payload they reassemble to; delivering exactly that is no fault of the
 * stack (the arrival faults judge the alteration).
 */
export function judgeDelivery(
  datagrams: readonly ExpectedDatagram[],
  delivered: readonly DeliveredDatagram[],
  notArrived: ReadonlySet<number> = new Set(),
  asArrived: ReadonlyMap<number, Buffer> = new Map(),
): FragTally {
  const fate: string[] = datagrams.map((g) => (notArrived.has(g.index) ? 'not judged (fragments did not arrive)' : 'dropped'));
  const times = datagrams.map(() => 0);
  /** Deliveries that matched only the as-arrived reading: not the stack's choice to deliver what it was sent. */
  const altered = datagrams.map(() => 0);
  const stray: string[] = [];
  const wrongSource: string[] = [];
  for (const d of delivered) {
    let match: { i: number; g: ExpectedDatagram; reading: number } | undefined;
    for (const [i, g] of datagrams.entries()) {
      if (g.family !== d.family) continue;
      const options = g.expect === 'either' ? (g.readings ?? []) : [g.payload];
      const r = options.findIndex((o) => o.equals(d.payload));
      if (r >= 0) {
        match = { i, g, reading: r };
        break;
      }
    }
    if (!match) {
      for (const [i, g] of datagrams.entries()) {
        if (g.family === d.family && asArrived.get(g.index)?.equals(d.payload)) {
          match = { i, g, reading: -1 };
          break;
        }
      }
    }
    if (!match) {
      const near = nearest(datagrams, d.payload);
      stray.push(
        near
          ? `${d.payload.length} bytes (nearest: datagram ${near.index} of ${near.payload.length} bytes, first difference at byte ${firstDifference(near.payload, d.payload)})`
          : `${d.payload.length} bytes`,
      );
      continue;
    }
    const { g } = match;
    // times and altered are datagrams.map: match.i indexes all three.
    times[match.i]!++;
    if (match.reading < 0) altered[match.i]!++;
    fate[match.i] =
      match.reading < 0
        ? 'delivered as altered before the DUT'
        : g.expect === 'either' && (g.readings?.length ?? 0) > 1
          ? match.reading === 0
            ? 'first copy won'
            : 'last copy won'
          : 'delivered';
    if (canonicalIp(d.from) !== canonicalIp(g.src) || d.port !== g.sport)
      wrongSource.push(`datagram ${g.index} arrived as from ${d.from} port ${d.port}, sent from ${g.src} port ${g.sport}`);
  }
  const faults: FragFault[] = [];
  const add = (kind: FragFaultKind, idx: number[], detail: string) => {
    if (idx.length > 0)
      faults.push({
        kind,
        count: idx.length,
        detail: `${idx.length} ${detail} (datagram${idx.length > 1 ? 's' : ''} ${idx.slice(0, 8).join(', ')}${idx.length > 8 ? '…' : ''})`,
      });
  };
  const where = (pred: (g: ExpectedDatagram, n: number, i: number) => boolean) =>
    datagrams.filter((g, i) => pred(g, times[i]!, i)).map((g) => g.index);
  add(
    'missing',
    where((g, n) => g.expect === 'deliver' && n === 0 && !notArrived.has(g.index)),
    'never delivered',
  );
  add(
    'delivered-bad',
    where((g, n, i) => g.expect === 'drop' && n > altered[i]!),
    'delivered though they must be dropped',
  );
  add(
    'duplicate',
    where((_g, n) => n > 1),
    'delivered more than once',
  );
  if (stray.length > 0)
    faults.push({
      kind: 'corrupt',
      count: stray.length,
      detail: `${stray.length} delivered datagram(s) match no consistent reading of anything sent; first: ${stray[0]}`,
    });
  if (wrongSource.length > 0)
    faults.push({
      kind: 'corrupt',
      count: wrongSource.length,
      detail: `${wrongSource.length} delivered with the wrong source; first: ${wrongSource[0]}`,
    });
  return { datagrams: datagrams.length, delivered: delivered.length, fate, faults };
}

/** A counter that must have risen by at least `min` over the round. */
export interface CounterRule {
  /** Names to try in order: the first one the kernel has is judged. */
  names: [string, ...string[]];
  min: number;
  why: string;
}

/** Judges counter rules against the deltas; `known` lists every counter the kernel has (to pick the first of `names` it knows). */
export function judgeCounters(
  rules: readonly CounterRule[],
  deltas: Readonly<Record<string, number>>,
  known: ReadonlySet<string>,
): FragFault[] {
  const out: FragFault[] = [];
  for (const r of rules) {
    const name = r.names.find((n) => known.has(n)) ?? r.names[0];
    const d = deltas[name] ?? 0;
    if (d < r.min)
      out.push({ kind: 'uncounted', count: r.min - d, detail: `${name} rose by ${d}, ${r.why} make it rise by at least ${r.min}` });
  }
  return out;
}

/** Counter rules are met (for waiting on a timer-driven counter such as ReasmTimeout). */
export function countersMet(rules: readonly CounterRule[], deltas: Readonly<Record<string, number>>, known: ReadonlySet<string>): boolean {
  return judgeCounters(rules, deltas, known).length === 0;
}

/** Counters of reassembly and fragmentation for evidence. */
export function reassemblyCounters(deltas: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(deltas).filter(([k]) => /Reasm|Frag|InCsumErrors|InHdrErrors/.test(k)));
}

/** The datagram (its IPv4 identification or IPv6 fragment id) each frame belongs to, or -1. */
export function datagramOfFrames(datagrams: readonly Pick<FragDatagram, 'index' | 'id'>[], frames: readonly Buffer[]): number[] {
  const byId = new Map(datagrams.map((d) => [d.id, d.index]));
  return frames.map((f) => {
    const ip = parseFrame(f).ip;
    const id = ip?.fragment?.id ?? (ip?.family === 4 ? ip.id : undefined);
    return id === undefined ? -1 : (byId.get(id) ?? -1);
  });
}

/**
 * Fragments that had to reach the DUT and did not: faults (`error` for the
 * harness's loss, plain for the DUT's), and the datagrams they belong to. A
 * datagram the socket received reached the DUT whatever the captures say.
 */
export function fragmentArrivals(
  owner: readonly number[],
  traces: readonly FrameTrace[],
  delivered: ReadonlySet<number>,
  dutLoss: Readonly<Record<string, number>>,
  captureDropped: { dut: number; peer: number },
  peerLoss: Readonly<Record<string, number>> = {},
): { faults: FragFault[]; notArrived: Set<number> } {
  if (owner.length !== traces.length)
    throw new NicmatrixError('INTERNAL', `fragmentArrivals: expected an owner per frame (${traces.length}), found ${owner.length}`);
  const must = traces.map((_, i) => i).filter((i) => !delivered.has(owner[i]!));
  const faults = arrivalFaults(traces, must, dutLoss, captureDropped, peerLoss);
  const notArrived = new Set(faults.flatMap((f) => f.frames.map((i) => owner[i]!)).filter((d) => d >= 0));
  return {
    faults: faults.map((f) => ({
      kind: f.kind,
      ...(f.status === 'error' ? { status: 'error' as const } : {}),
      count: f.count,
      detail: `${f.count} fragment(s) ${f.detail}`,
    })),
    notArrived,
  };
}

/**
 * Faults of the frames a sender put on the wire (pure): a frame shorter than
 * its IP length says (truncated), one carrying bytes past it beyond the
 * minimum-frame padding (wrong length), an IPv4 header checksum that does not
 * verify, a fragment sent twice. Each kind has its own message; `frames` are the sender's frames as
 * the receiving side captured them.
 */
export function judgeSentFrames(frames: readonly WireFrame[]): FragFault[] {
  const truncated: string[] = [];
  const long: string[] = [];
  const badSum: string[] = [];
  const copies: string[] = [];
  const seen = new Map<string, number>();
  for (const f of frames) {
    const ip = f.parsed.ip;
    if (!ip) continue;
    if (ip.fragment) {
      // IP IDs are per datagram: the same ID, offset and length twice is one fragment sent twice.
      const key = `${ip.family}/${ip.src}/${ip.dst}/${ip.fragment.id}/${ip.fragment.offset}/${ip.totalLen}`;
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      if (n === 2) copies.push(`fragment ID ${ip.fragment.id}, offset ${ip.fragment.offset} (frame ${f.index})`);
    }
    const have = Math.max(f.data.length, f.raw.len) - ip.offset;
    const what = `frame ${f.index} (IP ID/fragment ${ip.fragment?.id ?? (ip.family === 4 ? ip.id : '-')}, offset ${ip.fragment?.offset ?? 0})`;
    const lengths = `${what}: ${have} bytes, its IP length says ${ip.totalLen}`;
    for (const fault of frameShapeFaults(f)) {
      if (fault.kind === 'truncated') truncated.push(lengths);
      else if (fault.kind === 'wrong-length') long.push(lengths);
      else if (fault.kind === 'ip-header-checksum' && ip.family === 4)
        badSum.push(`${what}: 0x${ip.headerChecksum.toString(16).padStart(4, '0')}`);
    }
  }
  const out: FragFault[] = [];
  const add = (kind: FragFaultKind, list: string[], words: string) => {
    if (list.length > 0) out.push({ kind, count: list.length, detail: `${list.length} frame(s) ${words}; first: ${list[0]}` });
  };
  add('truncated', truncated, 'left the sender shorter than their IP length (truncated)');
  add('wrong-length', long, 'left the sender longer than their IP length (wrong length, beyond padding)');
  add('bad-ip-checksum', badSum, 'left the sender with a wrong IPv4 header checksum');
  add('fragment-copies', copies, 'reached the wire more than once (a sender sends each fragment once: the device made copies)');
  return out;
}

/** IP datagrams among `frames` whose fragments do not cover them from offset 0 to a last fragment (pure). */
export function incompleteDatagrams(frames: readonly WireFrame[]): number {
  const groups = new Map<string, { offset: number; len: number; more: boolean }[]>();
  for (const f of frames) {
    const ip = f.parsed.ip;
    if (!ip?.fragment) continue;
    const k = `${ip.family}/${ip.src}/${ip.dst}/${ip.fragment.id}`;
    const g = groups.get(k) ?? [];
    g.push({ offset: ip.fragment.offset, len: ip.totalLen - ip.hdrLen, more: ip.fragment.more });
    groups.set(k, g);
  }
  let n = 0;
  for (const g of groups.values()) {
    g.sort((a, b) => a.offset - b.offset);
    let end = 0;
    let done = false;
    for (const x of g) {
      if (x.offset > end) break;
      end = Math.max(end, x.offset + x.len);
      if (!x.more) done = true;
    }
    if (!done || g.some((x) => x.offset > end)) n++;
  }
  return n;
}
