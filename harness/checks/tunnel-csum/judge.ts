/**
 * Verdict rules for encapsulated frames on the wire (pure). Each level is
 * judged on its own: the outer IP header and length, the outer UDP checksum
 * (right, or zero where the tunnel was told to send none), the GRE checksum,
 * the inner IP header and the inner L4 checksum. A frame that arrived
 * CHECKSUM_PARTIAL (veth, virtio) has one level left to the receiver: its
 * seed is checked, then it is completed as hardware would before the other
 * level is judged (the outer checksum of a partial inner is computed
 * ahead by local checksum offload, so it is only right once the inner is).
 */
import { partialSeed } from '../../codec/checksum.js';
import {
  checkPartialSeed,
  completePartial,
  innerOffsetOf,
  parseEncap,
  verifyGreChecksum,
  verifyL4,
  type EncapInfo,
  type EncapKind,
  type IpFamily,
  type ParsedFrame,
} from '../../codec/index.js';
import type { WireFrame } from '../wire.js';

export interface TunnelExpect {
  kind: EncapKind;
  /** UDP tunnels: the outer UDP checksum must be set (true) or be zero (false). */
  outerCsum: boolean;
  /** GRE: the checksum option must be present and right (true) or absent (false). */
  greCsum: boolean;
  vni?: number;
}

export interface TunnelFrameVerdict {
  fault?: string;
  /** Which level arrived CHECKSUM_PARTIAL (with a right seed). */
  partial?: 'outer' | 'inner';
  encap?: EncapInfo;
}

const hex = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

function ipHeaderFault(level: string, p: ParsedFrame, frameLen: number): string | undefined {
  const ip = p.ip;
  if (!ip) return `${level}: not an IP packet: ${p.error ?? 'unparsable'}`;
  if (ip.family === 4 && !ip.headerChecksumOk) return `${level} IPv4 header checksum ${hex(ip.headerChecksum)} is wrong`;
  if (p.error && /total length|payload length|exceeds/.test(p.error)) return `${level} IP length: ${p.error}`;
  // Padding is legal only up to the Ethernet minimum.
  if (p.trailer > 0 && frameLen > 60) return `${level} IP length says ${ip.totalLen} bytes, the frame carries ${p.trailer} more`;
  return undefined;
}

/** Judges one captured frame of a tunnel flow at every level. */
export function judgeTunnelFrame(f: WireFrame, e: TunnelExpect): TunnelFrameVerdict {
  const first = parseEncap(f.data);
  const encap0 = first.encap;
  const outerFault = ipHeaderFault('outer', first.outer, f.data.length);
  if (outerFault) return { fault: outerFault, encap: encap0 };
  if (!encap0) return { fault: `not a ${e.kind} frame: ${first.error ?? 'no tunnel header'}` };
  if (encap0.kind !== e.kind) return { fault: `expected ${e.kind}, found ${encap0.kind}`, encap: encap0 };
  if (e.vni !== undefined && encap0.vni !== e.vni)
    return { fault: `${e.kind} VNI ${encap0.vni} differs from the tunnel's ${e.vni}`, encap: encap0 };
  const l4 = first.outer.l4!;
  if (l4.udp && l4.udp.length !== l4.length)
    return { fault: `outer UDP length field ${l4.udp.length} differs from the ${l4.length}-byte IP payload`, encap: encap0 };
  let data = f.data;
  let partial: 'outer' | 'inner' | undefined;
  if (f.partial) {
    const start = f.csumStart;
    const off = f.csumOffset;
    if (start === undefined || off === undefined)
      return { fault: 'arrived CHECKSUM_PARTIAL without csum_start/csum_offset', encap: encap0 };
    if (l4.udp && start === l4.offset) {
      if (!e.outerCsum)
        return { fault: 'the outer UDP checksum must be 0 but arrived CHECKSUM_PARTIAL: someone will write one', encap: encap0 };
      const v = checkPartialSeed(data, start, off);
      if (!v.ok) return { fault: `outer UDP checksum delivered partial with a wrong seed: ${v.reason ?? ''}`, encap: encap0 };
      partial = 'outer';
    } else if (start >= encap0.innerOffset) {
      const innerStart = innerOffsetOf(encap0, start);
      const v = checkPartialSeed(encap0.inner, innerStart, off);
      if (!v.ok) return { fault: `inner checksum delivered partial with a wrong seed: ${v.reason ?? ''}`, encap: encap0 };
      const ip = encap0.innerParsed.ip!;
      const innerEnd = encap0.innerOffset - encap0.synthesizedL2 + ip.offset + ip.totalLen;
      data = completePartial(data, start, off, { end: innerEnd });
      partial = 'inner';
    } else {
      return { fault: `CHECKSUM_PARTIAL at csum_start ${start} is neither the outer UDP nor the inner L4 header`, encap: encap0 };
    }
  }
  const encap = partial === 'inner' ? parseEncap(data).encap! : encap0;
  if (l4.udp && partial !== 'outer') {
    const v = verifyL4(data);
    if (e.outerCsum) {
      if (v.state === 'absent') return { fault: 'outer UDP checksum is 0, the tunnel was set to carry one', encap };
      if (v.state !== 'good') {
        const p = first.outer.ip!;
        const seed = partialSeed(p.family, p.src, p.dst, 17, l4.length);
        const why = v.found === seed ? ': it holds the pseudo-header seed, nobody completed it' : '';
        return { fault: `outer UDP checksum ${hex(v.found)} is wrong, expected ${hex(v.expected)}${why}`, encap };
      }
    } else if (v.found !== 0) {
      return { fault: `outer UDP checksum must be 0 (the tunnel sends none), found ${hex(v.found)}`, encap };
    }
  }
  if (encap.kind === 'gre') {
    const g = verifyGreChecksum(data, encap);
    if (e.greCsum && g.state === 'absent') return { fault: 'the GRE checksum option is missing, the tunnel was set to carry one', encap };
    if (!e.greCsum && g.state !== 'absent') return { fault: 'a GRE checksum option appeared, the tunnel was set to carry none', encap };
    if (g.state === 'bad') return { fault: `GRE checksum ${hex(g.found)} is wrong, expected ${hex(g.expected)}`, encap };
  }
  const innerFault = ipHeaderFault('inner', encap.innerParsed, encap.inner.length);
  if (innerFault) return { fault: innerFault, encap };
  if (partial !== 'inner') {
    const v = verifyL4(encap.inner);
    if (v.state !== 'good')
      return {
        fault: `inner ${v.kind} checksum ${v.state === 'absent' ? 'is 0 (absent)' : `${hex(v.found)} is wrong, expected ${hex(v.expected)}`}`,
        encap,
      };
  }
  return { partial, encap };
}

/** A decapsulated inner frame as the other judges take it. */
export function innerWireFrame(f: WireFrame, encap: EncapInfo): WireFrame {
  return { index: f.index, data: encap.inner, parsed: encap.innerParsed, partial: false, csumValid: false, raw: f.raw };
}

export interface InnerFlow {
  family: IpFamily;
  src: string;
  dst: string;
  proto: number;
  sport?: number;
  dport?: number;
}

/** Matches inner frames of one flow. */
export function innerMatches(encap: EncapInfo | undefined, flow: InnerFlow): boolean {
  const p = encap?.innerParsed;
  if (!p?.ip || p.ip.src !== flow.src || p.ip.dst !== flow.dst || p.ip.proto !== flow.proto) return false;
  if (flow.sport !== undefined && p.l4?.sport !== flow.sport) return false;
  if (flow.dport !== undefined && p.l4?.dport !== flow.dport) return false;
  return true;
}

export interface TunnelTally {
  frames: number;
  /** Frames whose every level was complete and right. */
  complete: number;
  /** Frames with a level delivered partial and a right seed. */
  outerPartial: number;
  innerPartial: number;
  faults: { index: number; reason: string }[];
}

/** Judges every frame of the flows; frames that are not of our flows are left out by the caller. */
export function judgeTunnelFrames(frames: readonly WireFrame[], e: TunnelExpect): { tally: TunnelTally; verdicts: TunnelFrameVerdict[] } {
  const tally: TunnelTally = { frames: frames.length, complete: 0, outerPartial: 0, innerPartial: 0, faults: [] };
  const verdicts = frames.map((f) => {
    const v = judgeTunnelFrame(f, e);
    if (v.fault) tally.faults.push({ index: f.index, reason: v.fault });
    else if (v.partial === 'outer') tally.outerPartial++;
    else if (v.partial === 'inner') tally.innerPartial++;
    else tally.complete++;
    return v;
  });
  return { tally, verdicts };
}

/** Multiset match of payloads: how many sent never showed up, and which shown were never sent (or twice). */
export function matchPayloads(sent: readonly Buffer[], got: readonly Buffer[]): { missing: number; unexpected: number } {
  const want = new Map<string, number>();
  for (const p of sent) want.set(p.toString('hex'), (want.get(p.toString('hex')) ?? 0) + 1);
  let unexpected = 0;
  for (const g of got) {
    const k = g.toString('hex');
    const n = want.get(k) ?? 0;
    if (n > 0) want.set(k, n - 1);
    else unexpected++;
  }
  let missing = 0;
  for (const n of want.values()) missing += n;
  return { missing, unexpected };
}
