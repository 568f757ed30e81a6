/**
 * What the DUT's own stack writes into the headers of the frames it sends to
 * the peer, and where the wire disagrees (pure). The checks judge lengths,
 * checksums and bytes; a device that rewrites a field around them (the TTL,
 * the DSCP, a CE mark, the source MAC) and fixes the checksum would pass them
 * all. A cable changes none of these fields, so every frame of a DUT flow must
 * carry what the stack wrote: its MAC to the peer's, the TTL / hop limit its
 * sysctls give an unconnected socket, DSCP 0 (no check sets one), never CE.
 */
import { canonicalIp } from '../codec/index.js';
import type { CheckOutcome } from './types.js';
import type { WireFrame } from './wire.js';

/** IP protocols whose frames the stack builds from a socket's defaults: TCP, UDP (tunnels' outer headers too), SCTP. */
const SOCKET_PROTOCOLS = new Set([6, 17, 132]);
/** ECN codepoint "congestion experienced": a router's mark, never a sender's. */
const ECN_CE = 3;

/** The DUT's and the peer's test addresses: a frame from one of the first to one of the second is the DUT's. */
export interface LinkEnds {
  dutAddrs: readonly string[];
  peerAddrs: readonly string[];
}

/** Whether an IP packet went from the DUT to the peer (addresses compared in canonical form). */
export function dutToPeer(ends: LinkEnds): (ip: { src: string; dst: string }) => boolean {
  const dut = new Set(ends.dutAddrs.map(canonicalIp));
  const peer = new Set(ends.peerAddrs.map(canonicalIp));
  return (ip) => dut.has(canonicalIp(ip.src)) && peer.has(canonicalIp(ip.dst));
}

/**
 * A variant's outcome with a fault the runner found on the wire: a device finding whatever the check concluded (a
 * pass, a skip or unsupported becomes a fail, and an error too, since the wire proves the fault).
 */
export function withWireFinding(outcome: CheckOutcome, line: string, evidence: CheckOutcome['evidence']): CheckOutcome {
  if (outcome.status === 'fail') return { ...outcome, message: `${outcome.message}; ${line}`, evidence };
  return { status: 'fail', message: `${line}; the check itself: ${outcome.status}: ${outcome.message}`, evidence };
}

export interface HeaderIntent extends LinkEnds {
  dutMac: string;
  peerMac: string;
  /** net.ipv4.ip_default_ttl on the DUT; unknown when it could not be read (then not judged). */
  ttl?: number;
  /** net.ipv6.conf.IF.hop_limit on the DUT. */
  hopLimit?: number;
}

export interface HeaderFault {
  /** Which of the variant's peer captures (1-based), when there were several. */
  capture?: number;
  index: number;
  reason: string;
}

export interface HeaderJudgement {
  /** DUT frames whose headers were judged. */
  checked: number;
  faults: HeaderFault[];
}

/** The frames of `frames` the DUT's stack sent to the peer, each judged against `intent`. */
export function judgeHeaders(frames: readonly WireFrame[], intent: HeaderIntent): HeaderJudgement {
  const fromDut = dutToPeer(intent);
  const out: HeaderJudgement = { checked: 0, faults: [] };
  for (const f of frames) {
    const { ip, eth } = f.parsed;
    if (!ip || !eth || !SOCKET_PROTOCOLS.has(ip.proto) || !fromDut(ip)) continue;
    out.checked++;
    const reasons = headerFaults(f, intent);
    if (reasons.length > 0) out.faults.push({ index: f.index, reason: reasons.join('; ') });
  }
  return out;
}

function headerFaults(f: WireFrame, intent: HeaderIntent): string[] {
  const { ip, eth } = f.parsed;
  if (!ip || !eth) return [];
  const out: string[] = [];
  if (eth.src.toLowerCase() !== intent.dutMac.toLowerCase())
    out.push(`Ethernet source ${eth.src} where the DUT's address ${intent.dutMac} was written`);
  if (eth.dst.toLowerCase() !== intent.peerMac.toLowerCase())
    out.push(`Ethernet destination ${eth.dst} where the peer's address ${intent.peerMac} was written`);
  const ds = ip.family === 4 ? ip.tos : ip.trafficClass;
  const field = ip.family === 4 ? 'IPv4 TOS' : 'IPv6 traffic class';
  if (ds >> 2 !== 0) out.push(`${field} 0x${hex(ds)}: DSCP ${ds >> 2} where the stack wrote 0`);
  if ((ds & 3) === ECN_CE) out.push(`${field} 0x${hex(ds)}: ECN CE (congestion experienced), which no sender writes`);
  if (ip.family === 4 && intent.ttl !== undefined && ip.ttl !== intent.ttl)
    out.push(`IPv4 TTL ${ip.ttl} where the stack wrote ${intent.ttl} (net.ipv4.ip_default_ttl)`);
  if (ip.family === 6 && intent.hopLimit !== undefined && ip.hopLimit !== intent.hopLimit)
    out.push(`IPv6 hop limit ${ip.hopLimit} where the stack wrote ${intent.hopLimit} (the interface's hop_limit)`);
  return out;
}

const hex = (n: number) => n.toString(16).padStart(2, '0');

/** One line for a verdict: how many DUT frames carried headers their stack did not write, and the first. */
export function describeHeaderFaults(j: HeaderJudgement): string {
  const first = j.faults[0];
  if (!first) return '';
  return `${j.faults.length} of ${j.checked} frame(s) the DUT sent arrived with headers its stack did not write (first: ${first.capture !== undefined ? `capture ${first.capture}, ` : ''}frame #${first.index}: ${first.reason})`;
}

/** Every capture the peer returned during a variant, judged; frames are named by capture and position. */
export function judgeCaptures(captures: readonly (readonly WireFrame[])[], intent: HeaderIntent): HeaderJudgement {
  const out: HeaderJudgement = { checked: 0, faults: [] };
  captures.forEach((frames, k) => {
    const j = judgeHeaders(frames, intent);
    out.checked += j.checked;
    for (const f of j.faults) out.faults.push({ ...f, capture: k + 1 });
  });
  return out;
}

/** Faults kept in a record: enough to see the pattern, the pcap has the rest. */
const MAX_FAULTS_KEPT = 8;

/** A variant's outcome with the header faults the runner found (see withWireFinding). */
export function withHeaderFaults(outcome: CheckOutcome, j: HeaderJudgement, intent: HeaderIntent): CheckOutcome {
  if (j.faults.length === 0) return outcome;
  return withWireFinding(outcome, describeHeaderFaults(j), {
    ...outcome.evidence,
    headerFaults: { checked: j.checked, count: j.faults.length, first: j.faults.slice(0, MAX_FAULTS_KEPT), intent },
  });
}
