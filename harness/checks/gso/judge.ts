/**
 * Tunnelled TCP segments on the wire (pure): every outer level of each frame
 * judged (tunnel-csum's rules: outer IP header and length, outer UDP length
 * and checksum, inner IP header and checksum), the outer IPv4 IDs judged
 * across the frames (GSO partial leaves them to the device), and the inner
 * frames handed on for tso's segment and stream rules.
 */
import { ETH_P_ARP, parseEncap, type EncapInfo, type IpFamily } from '../../codec/index.js';
import type { HandedDown } from '../tso/outcome.js';
import type { Unwrapped } from '../tso/round.js';
import type { WireFrame } from '../wire.js';
import { innerMatches, innerWireFrame, judgeTunnelFrame, type InnerFlow, type TunnelExpect } from '../tunnel-csum/judge.js';

export interface TunnelWireTally {
  /** Frames of the outer flow DUT → peer. */
  outerFrames: number;
  /** Every level complete and right. */
  complete: number;
  /** The inner TCP checksum left CHECKSUM_PARTIAL with a right seed (veth, virtio), the outer right once it is completed. */
  innerPartial: number;
  /** The outer UDP checksum left CHECKSUM_PARTIAL with a right seed. */
  outerPartial: number;
  /** Outer IPv4 IDs kept fixed under DF (allowed), and repeated without DF (each a fault). */
  outerIdFixedDf: number;
  outerIdRepeats: number;
  /** Tunnel frames that reached the peer as super-frames (not cut): each a fault, nothing can judge their segments. */
  superFrames: number;
}

export interface TunnelPath {
  /** Outer addresses DUT → peer. */
  outer: { family: IpFamily; src: string; dst: string };
  expect: TunnelExpect;
}

/** Outer frames of the path: its addresses and UDP (frames of other flows are left out). */
export function isOuterFrame(f: WireFrame, path: TunnelPath): boolean {
  const ip = f.parsed.ip;
  return ip?.src === path.outer.src && ip.dst === path.outer.dst && ip.proto === 17;
}

/** Frames back a repeated outer ID is looked for: a copied header repeats within a cut; the 16-bit ID wraps far later. */
export const ID_WINDOW = 64;

/** The outer IPv4 IDs of the tunnel's frames in capture order: without DF each frame needs its own (RFC 6864). */
function outerIdFaults(frames: readonly WireFrame[], t: TunnelWireTally): Map<number, string> {
  const faults = new Map<number, string>();
  const recent: { id: number; index: number }[] = [];
  for (const f of frames) {
    const ip = f.parsed.ip;
    if (ip?.family !== 4 || ip.fragment) continue;
    const before = recent.find((r) => r.id === ip.id);
    if (before !== undefined) {
      if (ip.df) t.outerIdFixedDf++;
      else {
        t.outerIdRepeats++;
        faults.set(
          f.index,
          `outer IPv4 ID ${ip.id} repeats frame #${before.index}'s and DF is clear: every segment needs its own outer ID (the device must advance the ID of the header it copies)`,
        );
      }
    }
    recent.push({ id: ip.id, index: f.index });
    if (recent.length > ID_WINDOW) recent.shift();
  }
  return faults;
}

/**
 * Outer fields every frame of one inner flow shares: the tunnel builds them once per flow (one DF, TTL and DSCP; the
 * ECN bits follow each inner packet, and the UDP source port follows the socket's hash, which TCP changes on a
 * timeout), and a device that copies the header must copy them whole.
 */
function outerCopyFaults(frames: readonly WireFrame[]): Map<number, string> {
  const faults = new Map<number, string>();
  const first = new Map<string, { index: number; fields: string }>();
  for (const f of frames) {
    const ip = f.parsed.ip;
    const inner = parseEncap(f.data).encap?.innerParsed;
    if (!ip || !inner?.ip) continue;
    const key = `${inner.ip.src} ${inner.ip.dst} ${inner.ip.proto} ${inner.l4?.sport ?? ''} ${inner.l4?.dport ?? ''}`;
    const names = ip.family === 4 ? 'DF/TTL/DSCP' : 'hop limit/DSCP';
    const fields = ip.family === 4 ? `${+ip.df}/${ip.ttl}/${ip.tos >> 2}` : `${ip.hopLimit}/${ip.trafficClass >> 2}`;
    const was = first.get(key);
    if (!was) first.set(key, { index: f.index, fields });
    else if (fields !== was.fields)
      faults.set(f.index, `outer IPv${ip.family} ${names} ${fields} differ from frame #${was.index}'s ${was.fields} (the same inner flow)`);
  }
  return faults;
}

/** Judges the wrapping of every frame of the path and unwraps the inner frames. */
export function unwrapTunnel(frames: readonly WireFrame[], path: TunnelPath): { frames: Unwrapped[]; tally: TunnelWireTally } {
  // The tunnel's own ARP (a neighbour it had to resolve) is no frame of any TCP flow.
  const outer = frames.filter((f) => isOuterFrame(f, path) && parseEncap(f.data).encap?.innerParsed.eth?.etherType !== ETH_P_ARP);
  const t: TunnelWireTally = {
    outerFrames: outer.length,
    complete: 0,
    innerPartial: 0,
    outerPartial: 0,
    outerIdFixedDf: 0,
    outerIdRepeats: 0,
    superFrames: 0,
  };
  const ids = outerIdFaults(outer, t);
  const copies = outerCopyFaults(outer);
  const out = outer.map((f): Unwrapped => {
    const gso = f.raw.gsoSize ?? 0;
    if (gso > 0) {
      const inner = parseEncap(f.data).encap?.innerParsed.payload?.length ?? 0;
      if (inner > gso) {
        t.superFrames++;
        return {
          index: f.index,
          fault: `a tunnel super-frame of ${f.data.length} bytes (gso_size ${gso}) reached the peer uncut: the segments it stands for cannot be judged`,
        };
      }
    }
    const v = judgeTunnelFrame(f, path.expect);
    const faults = [v.fault, ids.get(f.index), copies.get(f.index)].filter((x): x is string => x !== undefined);
    if (faults.length === 0) {
      if (v.partial === 'inner') t.innerPartial++;
      else if (v.partial === 'outer') t.outerPartial++;
      else t.complete++;
    }
    return {
      index: f.index,
      inner: v.encap ? innerOf(f, v.encap) : undefined,
      fault: faults.length > 0 ? faults.join('; ') : undefined,
    };
  });
  return { frames: out, tally: t };
}

/** The inner frame as tso's judge takes it: a capture cut short of the outer frame cuts the inner as much. */
function innerOf(f: WireFrame, encap: EncapInfo): WireFrame {
  const w = innerWireFrame(f, encap);
  return { ...w, raw: { ...f.raw, gsoSize: 0, len: w.data.length + Math.max(0, f.raw.len - f.data.length) } };
}

/**
 * Super-frames among the tunnel frames the DUT's driver was handed (its capture, headers only): a GSO frame whose
 * inner TCP data (from the frame's own length: GSO partial sets the headers' lengths to one segment's) exceeds gso_size.
 */
export function tunnelHandedDown(frames: readonly WireFrame[], flow: InnerFlow): HandedDown {
  let count = 0;
  let superFrames = 0;
  let superSegments = 0;
  for (const f of frames) {
    const encap = parseEncap(f.data).encap;
    if (!encap || !innerMatches(encap, flow)) continue;
    count++;
    const g = f.raw.gsoSize ?? 0;
    const at = encap.innerParsed.payload?.offset;
    if (g <= 0 || at === undefined) continue;
    const data = f.raw.len - (encap.innerOffset - encap.synthesizedL2 + at);
    if (data > g) {
      superFrames++;
      superSegments += Math.ceil(data / g);
    }
  }
  return { frames: count, superFrames, superSegments };
}
