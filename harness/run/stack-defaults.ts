/** What the DUT's stack writes into the headers of its frames, read from its sysctls once per (re)started target. */
import type { Dut, LinkInfo } from '../../drivers/types.js';
import type { HeaderIntent, LinkEnds } from '../checks/header-intent.js';
import { describeError } from '../codec/errors.js';

export interface StackDefaults {
  /** net.ipv4.ip_default_ttl */
  ttl?: number;
  /** net.ipv6.conf.IF.hop_limit */
  hopLimit?: number;
  /** Why a value is missing (then it is not judged). */
  unread?: string[];
}

async function readNumber(dut: Dut, name: string, signal: AbortSignal, unread: string[]): Promise<number | undefined> {
  try {
    const { value } = await dut.run('dut', 'sysctl.get', { name }, { signal });
    const n = Number(value);
    if (Number.isInteger(n) && n > 0) return n;
    unread.push(`${name}: expected a positive integer, found ${JSON.stringify(value)}`);
  } catch (e) {
    unread.push(`${name}: ${describeError(e)}`);
  }
  return undefined;
}

export async function readStackDefaults(dut: Dut, link: LinkInfo, signal: AbortSignal): Promise<StackDefaults> {
  const unread: string[] = [];
  const ttl = await readNumber(dut, 'net.ipv4.ip_default_ttl', signal, unread);
  // A dotted sysctl name cannot carry an interface name with a dot in it (a VLAN sub-interface).
  const hopLimit = link.dut.ifname.includes('.')
    ? undefined
    : await readNumber(dut, `net.ipv6.conf.${link.dut.ifname}.hop_limit`, signal, unread);
  return { ttl, hopLimit, ...(unread.length > 0 ? { unread } : {}) };
}

/** The test addresses of each end of the link. */
export function linkEnds(link: LinkInfo): LinkEnds {
  return { dutAddrs: [link.dut.ipv4, link.dut.ipv6], peerAddrs: [link.peer.ipv4, link.peer.ipv6] };
}

/** The headers every DUT frame to the peer must carry on this link. */
export function headerIntent(link: LinkInfo, stack: StackDefaults): HeaderIntent {
  return {
    ...linkEnds(link),
    dutMac: link.dut.mac,
    peerMac: link.peer.mac,
    ttl: stack.ttl,
    hopLimit: stack.hopLimit,
  };
}
