/**
 * Whose loss it is (pure): datagrams that the peer's capture or socket did not
 * get are the device's fault unless the harness's own side shows it dropped
 * them (its capture ring, its socket buffer, the peer port's drop counters).
 */
import { accountDelivered, type PeerDatagram } from './judge.js';

/** Counter names of a receiving port or stack that mean "dropped for lack of room". */
const PEER_DROP = /(rx.*(drop|miss|fifo|no_?buf|overrun|discard))|((drop|miss|fifo|no_?buf|overrun|discard).*rx)/i;
const PEER_SOCKET_DROP = /^Udp6?(RcvbufErrors|MemErrors)$|^UdpLite6?RcvbufErrors$/;

export interface LossInput {
  sent: number;
  /** Datagrams of the flow never seen on the peer's wire. */
  missingOnWire: number;
  /** Datagrams seen on the wire that the peer's socket never got. */
  missingAtSocket: number;
  captureDropped: number;
  /** Peer `nstat` and driver (`ethtool -S`) deltas over the round. */
  peerNstat: Readonly<Record<string, number>>;
  peerDriver: Readonly<Record<string, number>>;
}

export interface LossVerdict {
  /** Losses the device under test owns: each a fault with its count. */
  device: string[];
  /** Losses the test set-up caused: the case cannot be judged, never a device fault. */
  setup: string[];
}

function rose(deltas: Readonly<Record<string, number>>, pattern: RegExp): string[] {
  return Object.entries(deltas)
    .filter(([k, v]) => v > 0 && pattern.test(k))
    .map(([k, v]) => `${k} +${v}`);
}

export function attributeLoss(i: LossInput): LossVerdict {
  const out: LossVerdict = { device: [], setup: [] };
  if (i.missingOnWire > 0) {
    const peerDrops = rose(i.peerDriver, PEER_DROP);
    if (i.captureDropped > 0 || peerDrops.length > 0) {
      const why = [i.captureDropped > 0 ? `the peer's capture dropped ${i.captureDropped} frame(s) in its own buffer` : '', ...peerDrops];
      out.setup.push(
        `${i.missingOnWire} of ${i.sent} datagrams were not seen on the peer, which lost frames itself (${why.filter(Boolean).join(', ')})`,
      );
    } else out.device.push(`${i.missingOnWire} of ${i.sent} datagrams never arrived on the wire`);
  }
  if (i.missingAtSocket > 0) {
    const socketDrops = rose(i.peerNstat, PEER_SOCKET_DROP);
    if (socketDrops.length > 0) {
      out.setup.push(`${i.missingAtSocket} datagram(s) that arrived were dropped by the peer's socket buffer (${socketDrops.join(', ')})`);
    } else out.device.push(`${i.missingAtSocket} datagram(s) that arrived were refused by the peer's stack: its socket never got them`);
  }
  return out;
}

/** What one UDP transmit round needs for its accounting: the flow's frames, the peer socket's datagrams, the peer's drops. */
export interface UdpRoundAccount {
  frames: readonly unknown[];
  delivered: readonly PeerDatagram[];
  captureDropped: number;
  peerCounters: Readonly<Record<string, number>>;
  peerDriver: Readonly<Record<string, number>>;
}

/**
 * The delivery verdict of one UDP transmit round (pure): loss on the wire and at the peer's socket, owned by
 * the device or the set-up, and datagrams the socket got altered or from the wrong source. A frame that
 * arrived altered is counted once, as altered (by the caller's payload match), not also as lost.
 */
export function accountUdpRound(round: UdpRoundAccount, payloads: readonly Buffer[], from: { addr: string; port: number }): LossVerdict {
  const socket = accountDelivered(payloads, round.delivered, from);
  const loss = attributeLoss({
    sent: payloads.length,
    missingOnWire: Math.max(0, payloads.length - round.frames.length),
    missingAtSocket: Math.max(0, round.frames.length - round.delivered.length),
    captureDropped: round.captureDropped,
    peerNstat: round.peerCounters,
    peerDriver: round.peerDriver,
  });
  if (socket.unexpected > 0)
    loss.device.push(
      `the peer's socket received ${socket.unexpected} datagram(s) matching nothing sent (first: ${socket.firstUnexpected ?? ''})`,
    );
  if (socket.wrongSource > 0)
    loss.device.push(`${socket.wrongSource} datagram(s) reached the peer's socket from the wrong address or port`);
  return loss;
}
