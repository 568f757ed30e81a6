/**
 * Verdict rules for received checksums (pure). The peer chose every byte; the
 * DUT's capture says which frames reached its stack and what the device
 * claimed of them (TP_STATUS_CSUM_VALID); the socket says what was delivered;
 * nstat says what was counted.
 */
import { NicmatrixError } from '../../codec/errors.js';
import { canonicalIp, type IpFamily } from '../../codec/index.js';
import { arrivalFaults, type Arrival, type FrameTrace } from '../arrival.js';
import type { DeliveredDatagram } from '../delivered.js';
import type { WireFrame } from '../wire.js';
import { ipPacketKey, type PlannedFrame } from './plan.js';

export type RxFaultKind =
  /** A frame that must be dropped reached the socket. */
  | 'delivered-bad'
  /** A good frame reached the stack (capture) but not the socket. */
  | 'dropped-good'
  /** A good frame never reached the stack. */
  | 'lost'
  /** The socket received bytes no frame carried, or from the wrong source. */
  | 'corrupt'
  /** A frame was delivered more often than it was sent. */
  | 'duplicate'
  /** The device reported a wrong checksum as valid. */
  | 'valid-bad'
  /** Frames that reached the stack were not counted. */
  | 'uncounted'
  /** A frame that had to reach the DUT's tap did not (see arrival.ts: the DUT's loss, or the harness's). */
  | Exclude<Arrival, 'reached' | 'lost'>;

export interface RxFault {
  kind: RxFaultKind;
  /** `error`: the harness's fault (frames lost or altered before they left the peer); otherwise the DUT's. */
  status?: 'error';
  count: number;
  detail: string;
  /** Planned frame indexes concerned (for evidence and pcaps). */
  frames: number[];
}

export interface RxTally {
  planned: number;
  /** Planned frames the DUT's capture saw at least once. */
  reached: number;
  delivered: number;
  /** Good frames seen by the capture, and how many of them the device marked CSUM_VALID. */
  goodSeen: number;
  goodValidated: number;
  /** Good frames seen that the device left unvalidated (the software fallback checked them). */
  goodUnvalidated: number[];
  /** Frames with a wrong checksum seen, and how many the device marked CSUM_VALID. */
  badSeen: number;
  badValidated: number;
  /**
   * IPv6 UDP frames without a checksum (0) the device marked CSUM_VALID. Not a
   * fault: nothing was corrupted, and the stack drops them whatever the device says.
   */
  zeroValidated: number;
  /** Counter name → [receptions that must raise it, delta seen]. */
  counted: Record<string, [number, number]>;
  faults: RxFault[];
}

export interface RxInput {
  planned: readonly PlannedFrame[];
  /** Times each planned frame was sent (index-aligned; retries send again). */
  sent: readonly number[];
  delivered: readonly DeliveredDatagram[];
  /** Frames the DUT's capture received. */
  captured: readonly WireFrame[];
  /** nstat deltas of the DUT over the round. */
  counters: Readonly<Record<string, number>>;
  /** Where each frame got to, traced from the peer's egress to the DUT's tap; without it, only the DUT's capture counts. */
  arrivals?: ArrivalProof;
}

/** What proves that frames reached the DUT (inject.ts). */
export interface ArrivalProof {
  traces: readonly FrameTrace[];
  /** Frames that had to reach the DUT's tap (drop-expected ones too: a drop proves nothing about a frame that never came). */
  must: readonly number[];
  /** The DUT's receive loss counters that rose. */
  dutLoss: Readonly<Record<string, number>>;
  captureDropped: { dut: number; peer: number };
  /** The peer's transmit loss counters that rose. */
  peerLoss?: Readonly<Record<string, number>>;
}

/** Arrival faults as RX faults: the harness's are `error`, the DUT's (lost, altered) plain faults. */
export function arrivalRxFaults(a: ArrivalProof): RxFault[] {
  return arrivalFaults(a.traces, a.must, a.dutLoss, a.captureDropped, a.peerLoss).map((f) => ({
    kind: f.kind,
    ...(f.status === 'error' ? { status: 'error' as const } : {}),
    count: f.count,
    detail: f.detail,
    frames: f.frames,
  }));
}

/** Per-frame counts are arrays indexed by `index`: it must be the frame's place in the plan. */
export function checkIndexes(what: string, planned: readonly { index: number }[]): void {
  const k = planned.findIndex((p, i) => p.index !== i);
  if (k >= 0) throw new NicmatrixError('INTERNAL', `${what}: expected planned frame ${k} to have index ${k}, found ${planned[k]!.index}`);
}

const dkey = (family: IpFamily, payload: Buffer) => `${family}:${payload.toString('hex')}`;

/** How often the DUT's capture saw each planned frame, and which of those sightings were CSUM_VALID. */
export function sightings(planned: readonly PlannedFrame[], captured: readonly WireFrame[]): { seen: number[]; valid: number[] } {
  checkIndexes('rx-csum', planned);
  const byKey = new Map(planned.map((p) => [p.key, p.index]));
  const seen = planned.map(() => 0);
  const valid = planned.map(() => 0);
  for (const f of captured) {
    const i = byKey.get(ipPacketKey(f.data) ?? '');
    if (i === undefined) continue;
    seen[i]!++;
    if (f.csumValid) valid[i]!++;
  }
  return { seen, valid };
}

/** What the device and the stack did with the frames that reached the DUT: checksum claims and counters. */
export function deviceFacts(
  planned: readonly PlannedFrame[],
  captured: readonly WireFrame[],
  counters: Readonly<Record<string, number>>,
): Omit<RxTally, 'delivered'> & { seen: number[] } {
  const { seen, valid } = sightings(planned, captured);
  const faults: RxFault[] = [];
  // A missing checksum is not a corrupted one: only a wrong value the device vouched for is a fault.
  const validBad = planned.filter((p) => !p.csumOk && p.kind !== 'zero' && valid[p.index]! > 0).map((p) => p.index);
  if (validBad.length > 0)
    faults.push({
      kind: 'valid-bad',
      count: validBad.length,
      detail: 'carry a wrong checksum the device reported valid (TP_STATUS_CSUM_VALID)',
      frames: validBad,
    });
  const counted: Record<string, [number, number]> = {};
  for (const p of planned) {
    if (p.counter && seen[p.index]! > 0) counted[p.counter] = [(counted[p.counter]?.[0] ?? 0) + seen[p.index]!, counters[p.counter] ?? 0];
  }
  for (const [name, [want, delta]] of Object.entries(counted)) {
    if (delta < want) {
      const frames = planned.filter((p) => p.counter === name && seen[p.index]! > 0).map((p) => p.index);
      faults.push({ kind: 'uncounted', count: want - delta, detail: `${want} receptions must raise ${name}, it rose by ${delta}`, frames });
    }
  }
  const good = planned.filter((p) => p.kind === 'good' && seen[p.index]! > 0);
  const bad = planned.filter((p) => !p.csumOk && p.kind !== 'zero' && seen[p.index]! > 0);
  return {
    seen,
    planned: planned.length,
    reached: seen.filter((n) => n > 0).length,
    goodSeen: good.length,
    goodValidated: good.filter((p) => valid[p.index]! > 0).length,
    goodUnvalidated: good.filter((p) => valid[p.index] === 0).map((p) => p.index),
    badSeen: bad.length,
    badValidated: bad.filter((p) => valid[p.index]! > 0).length,
    zeroValidated: planned.filter((p) => !p.csumOk && p.kind === 'zero' && valid[p.index]! > 0).length,
    counted,
    faults,
  };
}

/**
 * A delivered datagram that matches nothing sent: when a frame of the same source port and length was sent, it is
 * that frame altered, said with the bytes that differ; otherwise it is foreign.
 */
function alteredOrForeign(planned: readonly PlannedFrame[], d: DeliveredDatagram): string {
  const twin = planned.find((p) => p.family === d.family && p.sport === d.port && p.payload.length === d.payload.length);
  if (!twin) return `a ${d.payload.length}-byte IPv${d.family} datagram from ${d.from} port ${d.port} matches no frame sent`;
  const at: number[] = [];
  for (let k = 0; k < d.payload.length; k++) if (d.payload[k] !== twin.payload[k]) at.push(k);
  const first = at[0] ?? 0;
  const hex = (b: Buffer) => b.subarray(first, first + 8).toString('hex');
  return `frame ${twin.index} was delivered altered: ${at.length} of its ${d.payload.length} payload bytes differ, first at offset ${first} (sent ${hex(twin.payload)}, delivered ${hex(d.payload)})`;
}

/** Judges a datagram case: every frame delivered or dropped as planned, intact, from its source, once. */
export function judgeRx(input: RxInput): RxTally {
  const { planned, sent, delivered } = input;
  if (sent.length !== planned.length)
    throw new NicmatrixError('INTERNAL', `judgeRx: expected a send count per planned frame (${planned.length}), found ${sent.length}`);
  const { seen, ...facts } = deviceFacts(planned, input.captured, input.counters);
  const byPayload = new Map(planned.map((p) => [dkey(p.family, p.payload), p.index]));
  const got = planned.map(() => 0);
  const faults: RxFault[] = [];
  const add = (kind: RxFaultKind, pred: (p: PlannedFrame) => boolean, detail: string) => {
    const frames = planned.filter(pred).map((p) => p.index);
    if (frames.length > 0) faults.push({ kind, count: frames.length, detail, frames });
  };
  const corrupt: string[] = [];
  for (const d of delivered) {
    const i = byPayload.get(dkey(d.family, d.payload));
    if (i === undefined) {
      corrupt.push(alteredOrForeign(planned, d));
      continue;
    }
    got[i]!++;
    const p = planned[i]!;
    if (canonicalIp(d.from) !== canonicalIp(p.src) || d.port !== p.sport)
      corrupt.push(`frame ${i} was delivered as from ${d.from} port ${d.port}, it came from ${p.src} port ${p.sport}`);
  }
  if (corrupt.length > 0)
    faults.push({
      kind: 'corrupt',
      count: corrupt.length,
      detail: `${corrupt.length} delivered datagram(s) differ from what was sent; first: ${corrupt[0]}`,
      frames: [],
    });
  add('delivered-bad', (p) => p.expect === 'drop' && got[p.index]! > 0, 'must be dropped but reached the socket');
  add('duplicate', (p) => got[p.index]! > sent[p.index]!, 'delivered more often than sent');
  add('dropped-good', (p) => p.expect === 'deliver' && got[p.index] === 0 && seen[p.index]! > 0, 'reached the DUT but not its socket');
  // A frame the socket got reached the DUT, whatever the captures say.
  if (input.arrivals) faults.push(...arrivalRxFaults({ ...input.arrivals, must: input.arrivals.must.filter((i) => got[i] === 0) }));
  else
    add('lost', (p) => p.expect === 'deliver' && got[p.index] === 0 && seen[p.index] === 0, 'never reached the DUT (not in its capture)');
  return { ...facts, delivered: delivered.length, faults: [...faults, ...facts.faults] };
}

/** Good frames the capture never saw: the ones worth sending again (a wire loss is not the checksum's fault). */
export function unseenGood(planned: readonly PlannedFrame[], captured: readonly WireFrame[]): number[] {
  const { seen } = sightings(planned, captured);
  return planned.filter((p) => p.expect === 'deliver' && seen[p.index] === 0).map((p) => p.index);
}
