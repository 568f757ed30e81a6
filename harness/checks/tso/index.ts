/**
 * The `tso/*` family: TCP segmentation offload judged segment by segment on
 * the wire, with TSO on, with only the kernel's GSO, and with neither.
 */
import type { IpFamily } from '../../codec/index.js';
import type { Check, Family, Variant } from '../types.js';
import { runTsoCase } from './case.js';
import { tsoVlanCheck } from './vlan.js';

/** The feature that lets the device segment TCP over this IP version. */
export function tsoFeature(family: IpFamily): string {
  return family === 4 ? 'tx-tcp-segmentation' : 'tx-tcp6-segmentation';
}

/** Smaller DUT MTU of the `tso-mtu1280` variant: IPv6's minimum link MTU. */
export const SMALL_MTU = 1280;

export function tsoVariants(family: IpFamily): Variant[] {
  const tso = tsoFeature(family);
  // TSO needs scatter-gather and checksum offload; the other variants take them when the device has them.
  const base = { 'tx-checksumming': true, 'scatter-gather': true };
  const optional = ['tx-checksumming', 'scatter-gather'];
  return [
    // The device segments: the driver is handed super-frames.
    { name: 'tso', features: { ...base, [tso]: true, 'generic-segmentation-offload': true } },
    // The kernel segments just before the driver (GSO): the driver sees MSS-sized frames.
    { name: 'gso', features: { ...base, [tso]: false, 'generic-segmentation-offload': true }, optional },
    // Both off: TCP still builds GSO skbs, the kernel cuts them at the device all the same.
    { name: 'off', features: { ...base, [tso]: false, 'generic-segmentation-offload': false }, optional },
    { name: 'tso-mtu1280', features: { ...base, [tso]: true, 'generic-segmentation-offload': true }, params: { mtu: SMALL_MTU } },
  ];
}

export const tsoFamily: Family = {
  name: 'tso',
  title: 'TCP segmentation offload',
  definition:
    'TCP streams sent with the device segmenting (TSO), with only the kernel segmenting (GSO) and with neither, every segment judged on the wire; ethtool features tcp-segmentation-offload (tx-tcp-segmentation, tx-tcp6-segmentation).',
};

function tsoCheck(family: IpFamily): Check {
  return {
    id: `tso/ipv${family}`,
    family: 'tso',
    title: `IPv${family} TCP segmentation offload, every segment judged on the wire`,
    definition: `Streams IPv${family} TCP data in large writes with TSO on, with only GSO, with neither, and at MTU 1280, capturing every segment at the peer.`,
    proves:
      "Every segment had the right sequence number, length, IP ID, flags and checksum, and the peer's socket received the exact stream.",
    variants: () => tsoVariants(family),
    run: (ctx) => runTsoCase(ctx, family),
  };
}

export const tsoChecks: readonly Check[] = [tsoCheck(4), tsoCheck(6), tsoVlanCheck];
