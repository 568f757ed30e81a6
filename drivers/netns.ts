/** Network namespaces and links the harness creates, each with its teardown registered first. */
import { cleanup, type Teardown } from '../harness/sys/cleanup.js';
import { run, type RunResult } from '../harness/sys/exec.js';
import type { CommandRunner } from './types.js';

/** Where a link end's commands run: a namespace (the host's own when undefined) on the host `run` reaches (this one by default). */
export interface Place {
  netns?: string;
  run?: CommandRunner;
}

/** Runs `ip ARGS` at `place` (`ip -n NETNS` for a namespace); `reject: false` leaves a failure to the caller. */
export function ipAt(place: Place, args: readonly string[], reject = true): Promise<RunResult> {
  return (place.run ?? run)('ip', [...(place.netns ? ['-n', place.netns] : []), ...args], { reject });
}

/** Creates a netns (teardown registered before creation) with `lo` up. */
export async function createNetns(name: string): Promise<Teardown> {
  const teardown = cleanup.register(`netns ${name}`, async () => {
    // Deleting the netns also deletes every virtual link inside it.
    await run('ip', ['netns', 'delete', name], { reject: false });
  });
  await run('ip', ['netns', 'add', name]);
  await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return teardown;
}

/** Creates a veth pair with each end directly in its namespace. */
export async function createVethPair(a: { netns: string; ifname: string }, b: { netns: string; ifname: string }): Promise<void> {
  await run('ip', ['-n', a.netns, 'link', 'add', a.ifname, 'type', 'veth', 'peer', 'name', b.ifname, 'netns', b.netns]);
}

export interface AddressPlan {
  ipv4: string;
  ipv4Prefix: number;
  ipv6: string;
  ipv6Prefix: number;
}

/** Adds the test addresses (IPv6 without DAD, so they are usable at once) and brings the link up. */
export async function configureAddresses(
  netns: string | undefined,
  ifname: string,
  plan: AddressPlan,
  runner?: CommandRunner,
): Promise<void> {
  const place = { netns, run: runner };
  await ipAt(place, ['addr', 'add', `${plan.ipv4}/${plan.ipv4Prefix}`, 'dev', ifname]);
  await ipAt(place, ['-6', 'addr', 'add', `${plan.ipv6}/${plan.ipv6Prefix}`, 'dev', ifname, 'nodad']);
  await ipAt(place, ['link', 'set', ifname, 'up']);
}

/**
 * Address pair for link instance `n`: 198.18.0.0/15 (RFC 2544 benchmarking)
 * and 2001:db8::/32 (documentation), so nothing real is ever addressed.
 */
export function addressPair(n: number): { dut: AddressPlan; peer: AddressPlan } {
  const hi = 18 + ((n >> 8) & 1);
  const mid = n & 0xff;
  const sub = (n & 0xffff).toString(16);
  return {
    dut: { ipv4: `198.${hi}.${mid}.1`, ipv4Prefix: 24, ipv6: `2001:db8:${sub}::1`, ipv6Prefix: 64 },
    peer: { ipv4: `198.${hi}.${mid}.2`, ipv4Prefix: 24, ipv6: `2001:db8:${sub}::2`, ipv6Prefix: 64 },
  };
}

/** One end's static neighbour entries for the other end's addresses: no ARP/ND traffic mixes into captures or delays the first frame. */
export async function pinNeighbour(self: Place & { ifname: string }, other: { ipv4: string; ipv6: string }, mac: string): Promise<void> {
  await ipAt(self, ['neigh', 'replace', other.ipv4, 'lladdr', mac, 'dev', self.ifname, 'nud', 'permanent']);
  await ipAt(self, ['-6', 'neigh', 'replace', other.ipv6, 'lladdr', mac, 'dev', self.ifname, 'nud', 'permanent']);
}

/** Removes what `pinNeighbour` installed (and any entry a late packet made); a missing entry is no failure. */
export async function unpinNeighbour(self: Place & { ifname: string }, other: { ipv4: string; ipv6: string }): Promise<void> {
  await ipAt(self, ['neigh', 'del', other.ipv4, 'dev', self.ifname], false);
  await ipAt(self, ['-6', 'neigh', 'del', other.ipv6, 'dev', self.ifname], false);
}

/** Static neighbour entries both ways, `a`'s first. */
export async function pinNeighbours(
  a: Place & { ifname: string; mac: string; plan: AddressPlan },
  b: Place & { ifname: string; mac: string; plan: AddressPlan },
): Promise<void> {
  await pinNeighbour(a, b.plan, b.mac);
  await pinNeighbour(b, a.plan, a.mac);
}

/** The PCI vendor:device[:subsystem] of a port, read from inside its namespace (sysfs shows the reader's); undefined off PCI. */
export async function readPciId(end: Place & { ifname: string }): Promise<string | undefined> {
  const p = `/sys/class/net/${end.ifname}/device`;
  const r = await (end.run ?? run)('sh', ['-c', `cat ${p}/vendor ${p}/device ${p}/subsystem_vendor ${p}/subsystem_device 2>/dev/null`], {
    netns: end.netns,
    reject: false,
  });
  const ids = r.stdout
    .split('\n')
    .map((s) => s.trim().replace(/^0x/, ''))
    .filter(Boolean);
  return ids.length >= 2 ? ids.join(':') : undefined;
}
