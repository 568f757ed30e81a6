/**
 * Agent actions tunnel.add / tunnel.del: a VXLAN, GENEVE, GRE or ip6gre device
 * stacked on an interface, with inner addresses and pinned inner neighbours.
 * A kernel without the tunnel type answers `missingModule` instead of failing:
 * that is a fact about the kernel, not about the device under test.
 */
import fs from 'node:fs/promises';
import { NicmatrixError } from '../../codec/errors.js';
import { run } from '../../sys/exec.js';
import { defineAction } from '../registry.js';

export type TunnelKind = 'vxlan' | 'geneve' | 'gre' | 'ip6gre';

/** The kernel module that provides each tunnel type. */
export const TUNNEL_MODULE: Record<TunnelKind, string> = { vxlan: 'vxlan', geneve: 'geneve', gre: 'ip_gre', ip6gre: 'ip6_gre' };

export interface TunnelSpec {
  kind: TunnelKind;
  ifname: string;
  /** The interface the tunnel runs over (the interface under test, or the peer's). */
  underlay: string;
  /** Outer addresses (their family is the outer family). */
  local: string;
  remote: string;
  /** VXLAN / GENEVE network identifier. */
  vni?: number;
  /** UDP tunnels: outer UDP checksum on transmit (IPv4 `udpcsum`; IPv6: not `udp6zerocsumtx`). */
  udpCsum?: boolean;
  /** GRE: carry and require the GRE checksum (`csum`). */
  greCsum?: boolean;
  /** MAC of an Ethernet tunnel (VXLAN, GENEVE). */
  mac?: string;
  /** Inner addresses with prefix length. */
  inner4: string;
  inner6: string;
  neighbours?: { ip: string; mac: string }[];
}

declare module '../protocol.js' {
  interface ActionMap {
    /** Creates a tunnel device; `missingModule` when this kernel has no such tunnel type. */
    'tunnel.add': { params: TunnelSpec; result: { ifname: string; mtu: number; mac: string } | { missingModule: string } };
    'tunnel.del': { params: { ifname: string }; result: Record<string, never> };
  }
}

/** Agent resource: the device goes when the agent exits without tunnel.del. */
class TunnelResource {
  constructor(readonly ifname: string) {}
  async close(): Promise<void> {
    await run('ip', ['link', 'del', this.ifname], { reject: false });
  }
}

function linkArgs(s: TunnelSpec): string[] {
  const v6 = s.local.includes(':');
  const args = ['link', 'add', s.ifname, 'type', s.kind];
  if (s.kind === 'vxlan' || s.kind === 'geneve') {
    args.push('id', String(s.vni ?? 1), 'remote', s.remote);
    if (s.kind === 'vxlan') args.push('local', s.local, 'dev', s.underlay, 'dstport', '4789');
    // A zero IPv6 checksum must be accepted by the receiver on purpose (RFC 6935/6936).
    if (v6) args.push(s.udpCsum === false ? 'udp6zerocsumtx' : 'noudp6zerocsumtx', 'udp6zerocsumrx');
    else args.push(s.udpCsum === false ? 'noudpcsum' : 'udpcsum');
  } else {
    args.push('local', s.local, 'remote', s.remote, 'ttl', '64');
    // ip6gre adds an encapsulation-limit destination option by default: keep the outer header plain.
    if (s.kind === 'ip6gre') args.push('encaplimit', 'none');
    if (s.greCsum) args.push('csum');
  }
  return args;
}

async function sysctl(name: string, value: string): Promise<void> {
  await fs.writeFile(`/proc/sys/${name.replace(/\./g, '/')}`, `${value}\n`).catch(() => undefined);
}

defineAction('tunnel.add', async (s, ctx) => {
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(s.ifname))
    throw new NicmatrixError('USAGE', `tunnel.add: expected an interface name, found ${JSON.stringify(s.ifname)}`);
  const add = await run('ip', linkArgs(s), { reject: false });
  if (add.exitCode !== 0) {
    if (/unknown device type|not supported|no such device/i.test(add.stderr)) return { missingModule: TUNNEL_MODULE[s.kind] };
    throw new NicmatrixError('AGENT', `tunnel.add: \`${add.command}\` exited ${add.exitCode}: ${add.stderr.trim()}`);
  }
  ctx.resources.set(ctx.newId('tunnel'), new TunnelResource(s.ifname));
  try {
    // No router solicitations, DAD or RA on the tunnel: only our flows cross it.
    for (const [k, v] of [
      ['accept_ra', '0'],
      ['router_solicitations', '0'],
      ['accept_dad', '0'],
    ] as const)
      await sysctl(`net.ipv6.conf.${s.ifname}.${k}`, v);
    if (s.mac) await run('ip', ['link', 'set', s.ifname, 'address', s.mac]);
    await run('ip', ['addr', 'add', s.inner4, 'dev', s.ifname]);
    await run('ip', ['-6', 'addr', 'add', s.inner6, 'dev', s.ifname, 'nodad']);
    await run('ip', ['link', 'set', s.ifname, 'up']);
    for (const n of s.neighbours ?? [])
      await run('ip', [
        ...(n.ip.includes(':') ? ['-6'] : []),
        'neigh',
        'replace',
        n.ip,
        'lladdr',
        n.mac,
        'dev',
        s.ifname,
        'nud',
        'permanent',
      ]);
    const [info] = JSON.parse((await run('ip', ['-json', 'link', 'show', 'dev', s.ifname])).stdout) as { mtu: number; address?: string }[];
    if (!info) throw new NicmatrixError('COMMAND_FAILED', `ip link show dev ${s.ifname}: expected the tunnel's link, found an empty list`);
    return { ifname: s.ifname, mtu: info.mtu, mac: info.address ?? '' };
  } catch (e) {
    await run('ip', ['link', 'del', s.ifname], { reject: false });
    throw e;
  }
});

defineAction('tunnel.del', async ({ ifname }, ctx) => {
  await run('ip', ['link', 'del', ifname], { reject: false });
  for (const [id, r] of ctx.resources) if (r instanceof TunnelResource && r.ifname === ifname) ctx.resources.delete(id);
  return {};
});
