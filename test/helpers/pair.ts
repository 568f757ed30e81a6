/** A cabled port pair made of a veth between two namespaces: stands in for real NICs in phys: tests. */
import { execa } from 'execa';

let n = 0;

export interface PortPair {
  dutNs: string;
  peerNs: string;
  dutIf: string;
  peerIf: string;
  spec: string;
  /** Addresses, link state and features of both ports, to prove they end as found. */
  state(): Promise<string>;
  remove(): Promise<void>;
}

export async function makePortPair(tag: string): Promise<PortPair> {
  const id = `${process.pid}${++n}`;
  const pair = {
    dutNs: `t-${tag}-${id}-a`,
    peerNs: `t-${tag}-${id}-b`,
    dutIf: `port${id}a`.slice(0, 15),
    peerIf: `port${id}b`.slice(0, 15),
  };
  const remove = async () => {
    await execa('ip', ['netns', 'del', pair.dutNs], { reject: false });
    await execa('ip', ['netns', 'del', pair.peerNs], { reject: false });
  };
  try {
    await execa('ip', ['netns', 'add', pair.dutNs]);
    await execa('ip', ['netns', 'add', pair.peerNs]);
    await execa('ip', ['-n', pair.dutNs, 'link', 'add', pair.dutIf, 'type', 'veth', 'peer', 'name', pair.peerIf, 'netns', pair.peerNs]);
    // A port the user configured: an address of their own, link up, offloads as they set them.
    await execa('ip', ['-n', pair.dutNs, 'addr', 'add', '192.0.2.10/24', 'dev', pair.dutIf]);
    await execa('ip', ['-n', pair.dutNs, 'link', 'set', pair.dutIf, 'up']);
  } catch (e) {
    await remove();
    throw e;
  }
  const state = async () => {
    const parts: string[] = [];
    for (const [ns, ifname] of [
      [pair.dutNs, pair.dutIf],
      [pair.peerNs, pair.peerIf],
    ] as const) {
      const addr = await execa('ip', ['-n', ns, '-json', 'addr', 'show', 'dev', ifname]);
      const info = (JSON.parse(addr.stdout) as { flags: string[]; mtu: number; addr_info: { local: string; prefixlen: number }[] }[])[0];
      if (!info) throw new Error(`ip -n ${ns} -json addr show dev ${ifname}: expected the interface, found an empty list`);
      const feats = await execa('ip', ['netns', 'exec', ns, 'ethtool', '--json', '-k', ifname]);
      const neigh = await execa('ip', ['-n', ns, 'neigh', 'show', 'dev', ifname]);
      parts.push(
        JSON.stringify({
          flags: info.flags,
          mtu: info.mtu,
          addrs: info.addr_info.map((a) => `${a.local}/${a.prefixlen}`),
          neigh: neigh.stdout.trim(),
          features: JSON.parse(feats.stdout),
        }),
      );
    }
    return parts.join('\n');
  };
  return { ...pair, spec: `phys:${pair.dutNs}/${pair.dutIf},${pair.peerNs}/${pair.peerIf}`, state, remove };
}
