/**
 * What a driver claims, read from its `ethtool -k` snapshot, per check: the
 * features that must be active for the offload a check family exercises.
 * "Claimed" sits beside "verified" in the matrix; a device that claims an
 * offload and fails its check stands out.
 */
import type { FeatureSnapshot } from './record.js';

// Asked once per variant of every observation (hundreds of thousands for a large store): answered once per check.
const claimCache = new Map<string, readonly string[]>();

/** Features any of which, when active, means the driver claims the offload the check tests. */
export function claimFeatures(check: string): string[] {
  let names = claimCache.get(check);
  if (names === undefined) {
    if (claimCache.size > 10_000) claimCache.clear();
    claimCache.set(check, (names = featuresOf(check)));
  }
  return names.slice();
}

function featuresOf(check: string): string[] {
  const [family, name = ''] = check.split('/', 2);
  switch (family) {
    case 'tx-csum':
      if (name.startsWith('ipv4')) return ['tx-checksum-ipv4', 'tx-checksum-ip-generic'];
      if (name.startsWith('ipv6')) return ['tx-checksum-ipv6', 'tx-checksum-ip-generic'];
      if (name.startsWith('generic')) return ['tx-checksum-ip-generic'];
      return ['tx-checksum-ipv4', 'tx-checksum-ipv6', 'tx-checksum-ip-generic'];
    case 'rx-csum':
      return ['rx-checksumming'];
    case 'zc':
      return ['scatter-gather', 'tcp-segmentation-offload'];
    case 'tso':
      return ['tcp-segmentation-offload', 'tx-tcp-segmentation', 'tx-tcp6-segmentation'];
    case 'uso':
      return ['tx-udp-segmentation'];
    case 'gso':
      // GSO partial is the device's: the stack's own cut (the software variant) claims nothing.
      return name === 'partial' ? ['tx-gso-partial'] : [];
    case 'tunnel-csum':
      // Received tunnel frames are validated by RX checksumming; sent ones need the inner checksum offloaded.
      return name.endsWith('-rx') ? ['rx-checksumming'] : ['tx-checksum-ip-generic', 'tx-checksum-ipv4', 'tx-checksum-ipv6'];
    case 'sctp-csum':
      return name.endsWith('-rx') ? ['rx-checksumming'] : ['tx-checksum-sctp'];
    default:
      // Fragment reassembly, other GSO and frame padding are the kernel's or driver's own work: nothing to claim.
      return [];
  }
}

/**
 * true: the driver advertises the offload; false: it has the features but
 * they are off; null: the check tests no offload or the snapshot lacks them.
 */
export function claimed(check: string, features: FeatureSnapshot | undefined): boolean | null {
  const states = claimFeatures(check)
    .map((n) => features?.[n])
    .filter((s) => s !== undefined);
  if (states.length === 0) return null;
  return states.some((s) => s.active);
}
