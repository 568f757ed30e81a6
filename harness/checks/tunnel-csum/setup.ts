/**
 * The tunnel devices of a tunnel check: one on the DUT stacked on the
 * interface under test, one on the peer, with inner addresses and pinned
 * inner neighbours; removed on every path (registered before they are made).
 */
import type { Side } from '../../../drivers/types.js';
import type { TunnelKind, TunnelSpec } from '../../agent/actions/tunnel.js';
import { cleanup } from '../../sys/cleanup.js';
import type { CheckContext, CheckOutcome } from '../types.js';

export interface TunnelCase {
  /** Check ID suffix stem, e.g. `vxlan4`. */
  name: string;
  kind: TunnelKind;
  outer: 4 | 6;
  /** UDP tunnels: outer checksum on transmit. */
  udpCsum?: boolean;
  greCsum?: boolean;
}

/** Inner addresses (documentation ranges, apart from every link's underlay addresses). */
export const INNER = {
  dut: { v4: '203.0.113.1', v6: '2001:db8:7e::1', mac: '02:7e:00:00:00:01' },
  peer: { v4: '203.0.113.2', v6: '2001:db8:7e::2', mac: '02:7e:00:00:00:02' },
} as const;
export const TUNNEL_IFNAME = 'nmtun0';
export const TUNNEL_VNI = 4242;

export interface Tunnels {
  /** The tunnel device's name on each side (same on both). */
  ifname: string;
  mtu: number;
  /** Kernel module a side lacks for this tunnel type. */
  dutMissing?: string;
  peerMissing?: string;
  /** Whether the inner packets are Ethernet frames (VXLAN, GENEVE) or bare IP (GRE). */
  l2: boolean;
}

function spec(ctx: CheckContext, c: TunnelCase, side: Side): TunnelSpec {
  const me = ctx.link[side];
  const other = ctx.link[side === 'dut' ? 'peer' : 'dut'];
  const mine = INNER[side];
  const theirs = INNER[side === 'dut' ? 'peer' : 'dut'];
  const l2 = c.kind === 'vxlan' || c.kind === 'geneve';
  return {
    kind: c.kind,
    ifname: TUNNEL_IFNAME,
    underlay: me.ifname,
    local: c.outer === 4 ? me.ipv4 : me.ipv6,
    remote: c.outer === 4 ? other.ipv4 : other.ipv6,
    vni: TUNNEL_VNI,
    udpCsum: c.udpCsum,
    greCsum: c.greCsum,
    mac: l2 ? mine.mac : undefined,
    inner4: `${mine.v4}/24`,
    inner6: `${mine.v6}/64`,
    neighbours: l2
      ? [
          { ip: theirs.v4, mac: theirs.mac },
          { ip: theirs.v6, mac: theirs.mac },
        ]
      : [],
  };
}

/** A kernel without the tunnel type: a fact about the kernel, kept apart from what the device does. */
export function missingModuleSkip(title: string, c: TunnelCase, module: string): CheckOutcome {
  return {
    status: 'skip',
    message: `${title}: the DUT's kernel has no ${c.kind} tunnels (kernel module ${module} missing)`,
    evidence: { missingModule: module },
  };
}

/** Loopback has one network stack: a tunnel's two ends cannot both exist there, so the case does not apply. */
export function oneStackSkip(title: string, c: TunnelCase): CheckOutcome {
  return {
    status: 'skip',
    message: `${title}: a ${c.kind} tunnel needs two network stacks, and DUT and peer share one on this link (loopback)`,
    evidence: { reason: 'one-stack' },
  };
}

/** Runs `fn` with the tunnel up on both sides (as far as their kernels have it); removes both after. */
export async function withTunnels<T>(ctx: CheckContext, c: TunnelCase, fn: (t: Tunnels) => Promise<T>): Promise<T> {
  const made: Side[] = [];
  const teardown = cleanup.register(`remove the ${c.kind} tunnel devices`, async () => {
    for (const side of made.splice(0).reverse()) await ctx.dut.run(side, 'tunnel.del', { ifname: TUNNEL_IFNAME }).catch(() => undefined);
  });
  try {
    const t: Tunnels = { ifname: TUNNEL_IFNAME, mtu: 0, l2: c.kind === 'vxlan' || c.kind === 'geneve' };
    const d = await ctx.dut.run('dut', 'tunnel.add', spec(ctx, c, 'dut'));
    if ('missingModule' in d) return await fn({ ...t, dutMissing: d.missingModule });
    made.push('dut');
    t.mtu = d.mtu;
    const p = await ctx.dut.run('peer', 'tunnel.add', spec(ctx, c, 'peer'));
    if ('missingModule' in p) t.peerMissing = p.missingModule;
    else made.push('peer');
    return await fn(t);
  } finally {
    await teardown.run();
  }
}
