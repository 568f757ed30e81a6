/**
 * A real veth link between two fresh netns for the syscall-layer and agent
 * tests: addresses on both ends, static neighbours (no ARP/ND in captures),
 * teardown registered before anything is created.
 */
import { buildUdpFrame, type IpFamily, parseFrame, type UdpFrameSpec } from '../../harness/codec/index.js';
import { run, runJson } from '../../harness/sys/exec.js';
import { addressPair, configureAddresses, createNetns, createVethPair, pinNeighbours } from '../../drivers/netns.js';
import { ifName, nextInstance } from '../../drivers/names.js';

export interface LinkEnd {
  netns: string;
  ifname: string;
  mac: string;
  ipv4: string;
  ipv6: string;
}

export interface VethLink {
  a: LinkEnd;
  b: LinkEnd;
  /** Deletes both netns (and so the veth pair); safe to call twice. */
  destroy(): Promise<void>;
}

/** Our own prefix: the CLI tests assert that no harness (`nm-`) netns is left while these run. */
let seq = 0;
const testNetns = (tag: string) => `nmsys-${process.pid}-${++seq}-${tag}`;

export async function makeVethLink(tag: string): Promise<VethLink> {
  const nsA = testNetns(`${tag}a`);
  const nsB = testNetns(`${tag}b`);
  const ifA = ifName('a');
  const ifB = ifName('b');
  const teardowns = [await createNetns(nsA)];
  const destroy = async () => {
    for (const t of teardowns.reverse()) await t.run();
  };
  try {
    teardowns.push(await createNetns(nsB));
    await createVethPair({ netns: nsA, ifname: ifA }, { netns: nsB, ifname: ifB });
    const plan = addressPair(nextInstance());
    await configureAddresses(nsA, ifA, plan.dut);
    await configureAddresses(nsB, ifB, plan.peer);
    const mac = async (ns: string, ifn: string) =>
      (await runJson<{ address: string }[]>('ip', ['-n', ns, '-json', 'link', 'show', ifn]))[0]!.address;
    const a = { netns: nsA, ifname: ifA, mac: await mac(nsA, ifA), ipv4: plan.dut.ipv4, ipv6: plan.dut.ipv6 };
    const b = { netns: nsB, ifname: ifB, mac: await mac(nsB, ifB), ipv4: plan.peer.ipv4, ipv6: plan.peer.ipv6 };
    await pinNeighbours({ ...a, plan: plan.dut }, { ...b, plan: plan.peer });
    return { a, b, destroy };
  } catch (e) {
    await destroy();
    throw e;
  }
}

/** `ethtool -K IF tx on|off` (all TX checksum offloads) inside the end's netns. */
export async function setTxCsum(end: LinkEnd, on: boolean): Promise<void> {
  await run('ethtool', ['-K', end.ifname, 'tx', on ? 'on' : 'off'], { netns: end.netns });
}

/**
 * The frame a UDP socket should have put on the wire, with the fields the
 * kernel picks itself (IPv4 id and DF, IPv6 flow label) copied from `seen`.
 */
export function expectedUdpFrame(seen: Buffer, spec: UdpFrameSpec): Buffer {
  const ip = parseFrame(seen).ip;
  if (ip?.family === 4) return buildUdpFrame({ ...spec, ipv4: { id: ip.id, df: ip.df, ttl: ip.ttl, tos: ip.tos, ...spec.ipv4 } });
  if (ip?.family === 6) return buildUdpFrame({ ...spec, ipv6: { flowLabel: ip.flowLabel, hopLimit: ip.hopLimit, ...spec.ipv6 } });
  return buildUdpFrame(spec);
}

/** The end's address of a family. */
export function addrOf(end: LinkEnd, family: IpFamily): string {
  return family === 4 ? end.ipv4 : end.ipv6;
}
