/**
 * Whose loss it is (pure): datagrams that the peer's capture or socket did not
 * get are the device's fault unless the harness's own side shows it dropped
 * them (its capture ring, its socket buffer, the peer port's drop counters).
 */

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
