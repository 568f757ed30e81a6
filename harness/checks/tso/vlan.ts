/**
 * `tso/vlan`: TCP segmentation through an 802.1Q sub-interface, with the tag
 * inserted by the device (tx-vlan-hw-insert on) or by the kernel (off). The
 * captures stay on the parent interfaces: the wire shows the tagged segments.
 */
import type { IpFamily } from '../../codec/index.js';
import { describeError } from '../../codec/errors.js';
import { createRng } from '../../codec/random.js';
import type { Check, CheckContext, CheckOutcome, Variant } from '../types.js';
import { combineConnections } from './outcome.js';
import { runTsoCase } from './case.js';

export const VLAN_VARIANTS: readonly Variant[] = [
  {
    name: 'tso-hw-tag',
    features: {
      'tx-checksumming': true,
      'scatter-gather': true,
      'tx-tcp-segmentation': true,
      'tx-tcp6-segmentation': true,
      'tx-vlan-hw-insert': true,
    },
  },
  {
    name: 'tso-sw-tag',
    features: {
      'tx-checksumming': true,
      'scatter-gather': true,
      'tx-tcp-segmentation': true,
      'tx-tcp6-segmentation': true,
      'tx-vlan-hw-insert': false,
    },
  },
];

/** Addresses of the VLAN: their own subnets (benchmark range, ULA), so the link's routes never carry it. */
export function vlanAddresses(vid: number): { v4: [string, string]; v6: [string, string] } {
  const n = vid & 0xff;
  return { v4: [`198.19.${n}.1`, `198.19.${n}.2`], v6: [`fd00:4e4d:${vid.toString(16)}::1`, `fd00:4e4d:${vid.toString(16)}::2`] };
}

/**
 * A kernel built without CONFIG_VLAN_8021Q (on either side: the peer is often the controller's host) cannot make
 * the path at all: nothing of the device is judged. Any other failure is rethrown.
 */
export function noVlanSkip(side: 'DUT' | 'peer', e: unknown): CheckOutcome {
  if (!/Unknown device type/.test(describeError(e))) throw e;
  return {
    status: 'skip',
    message: `the ${side}'s kernel has no 802.1Q support (CONFIG_VLAN_8021Q): ${describeError(e)}`,
    evidence: { noVlanSupport: side },
  };
}

async function runVlan(ctx: CheckContext): Promise<CheckOutcome> {
  if (ctx.link.sameInterface) return { status: 'skip', message: 'loopback carries no 802.1Q sub-interface', evidence: {} };
  // The driver says it cannot carry tagged frames of its own (e100 on chips before the 82558): no sub-interface exists.
  const challenged = ctx.features['vlan-challenged'];
  if (challenged?.active)
    return {
      status: 'unsupported',
      message: `the device offers no 802.1Q sub-interface: ethtool -k says vlan-challenged: on${challenged.fixed ? ' [fixed]' : ''}, and the kernel refuses one on it`,
      evidence: { vlanChallenged: challenged },
    };
  const vid = createRng(ctx.seed ^ 0x9e3779b9).int(2, 4094);
  const a = vlanAddresses(vid);
  /** The sub-interface on one side: the DUT holds the first address of each family, the peer the second. */
  const add = async (side: 'dut' | 'peer'): Promise<{ id: string } | CheckOutcome> => {
    const k = side === 'dut' ? 0 : 1;
    try {
      return await ctx.dut.run(side, 'vlan.add', {
        parent: ctx.link[side].ifname,
        name: `nmv${side[0]}${vid}`.slice(0, 15),
        vid,
        addresses: [`${a.v4[k]}/24`, `${a.v6[k]}/64`],
      });
    } catch (e) {
      return noVlanSkip(side === 'dut' ? 'DUT' : 'peer', e);
    }
  };
  const dut = await add('dut');
  if ('status' in dut) return dut;
  try {
    const peer = await add('peer');
    if ('status' in peer) return peer;
    try {
      const via = (family: IpFamily) => ({
        src: family === 4 ? a.v4[0] : a.v6[0],
        dst: family === 4 ? a.v4[1] : a.v6[1],
        dutIf: ctx.link.dut.ifname,
        peerIf: ctx.link.peer.ifname,
        label: `over VLAN ${vid}`,
      });
      const v4 = await runTsoCase(ctx, 4, via);
      const v6 = await runTsoCase({ ...ctx, seed: (ctx.seed ^ 0x5bd1e995) >>> 0 }, 6, via);
      return combineConnections([v4, v6], { vlan: vid, hwTagInsert: ctx.features['tx-vlan-hw-insert']?.active ?? false });
    } finally {
      await ctx.dut.run('peer', 'vlan.del', { id: peer.id });
    }
  } finally {
    await ctx.dut.run('dut', 'vlan.del', { id: dut.id });
  }
}

export const tsoVlanCheck: Check = {
  id: 'tso/vlan',
  family: 'tso',
  title: 'TCP segmentation through an 802.1Q sub-interface, tag inserted by the device or the kernel',
  definition: 'Streams TCP data through an 802.1Q sub-interface of the DUT, the tag inserted by the device or by the kernel.',
  proves: 'Every segment carried the tag and correct headers and checksums, and the peer received the exact stream.',
  variants: () => [...VLAN_VARIANTS],
  run: runVlan,
};
