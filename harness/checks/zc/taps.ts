/**
 * Packet sockets that tap an interface, from /proc/net/packet: the kernel
 * hands each a clone of every frame the interface transmits and, for a
 * zero-copy frame, first copies the user pages (skb_orphan_frags_rx in
 * deliver_skb), reporting the send as copied. Pure.
 */

/** ETH_P_ALL: the protocol of a socket that sees every frame (tcpdump, AF_PACKET captures). */
export const ETH_P_ALL = 0x0003;

export interface PacketSocketLine {
  proto: number;
  ifindex: number;
  running: boolean;
  inode: number;
}

/** Parses /proc/net/packet (`sk RefCnt Type Proto Iface R Rmem User Inode`); lines that do not parse are left out. */
export function parsePacketSockets(text: string): PacketSocketLine[] {
  const out: PacketSocketLine[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 9) continue;
    const proto = Number.parseInt(f[3]!, 16);
    const ifindex = Number(f[4]);
    const inode = Number(f[8]);
    if (!Number.isFinite(proto) || !Number.isInteger(ifindex) || !Number.isInteger(inode)) continue;
    out.push({ proto, ifindex, running: f[5] === '1', inode });
  }
  return out;
}

/** The sockets that see what `ifindex` transmits: ETH_P_ALL, running, bound to it or to every interface (0). */
export function tapsOf(sockets: readonly PacketSocketLine[], ifindex: number): PacketSocketLine[] {
  return sockets.filter((s) => s.proto === ETH_P_ALL && s.running && (s.ifindex === 0 || s.ifindex === ifindex));
}

/** "2 packet socket(s) (inodes 123, 456) tap the DUT's interface", or undefined when none does. */
export function describeTaps(taps: readonly PacketSocketLine[]): string | undefined {
  if (taps.length === 0) return undefined;
  const where = taps.some((t) => t.ifindex === 0) ? 'every interface, the DUT included' : "the DUT's interface";
  return `${taps.length} packet socket(s) (ETH_P_ALL, inode ${taps.map((t) => t.inode).join(', ')}) tap ${where}`;
}
