/**
 * Deliberately broken devices: an nftables netdev egress rule on the DUT
 * interface rewrites chosen bytes on their way out, after the stack and the
 * driver are done with them — what a buggy NIC would do on the wire.
 */
import { execa } from 'execa';

/** Adds an egress chain with `rules` on `ifname` inside `netns`. */
export async function corruptEgress(netns: string, ifname: string, rules: string[]): Promise<void> {
  const script = [
    'table netdev nicmatrix_fault {',
    `  chain egress { type filter hook egress device "${ifname}" priority 0; policy accept;`,
    ...rules.map((r) => `    ${r}`),
    '  }',
    '}',
  ].join('\n');
  await execa('ip', ['netns', 'exec', netns, 'nft', '-f', '-'], { input: script });
}

/** Adds an ingress chain with `rules` on `ifname` inside `netns`: frames are rewritten after AF_PACKET taps saw them, before the stack does. */
export async function corruptIngress(netns: string, ifname: string, rules: string[]): Promise<void> {
  const script = [
    'table netdev nicmatrix_ingress_fault {',
    `  chain ingress { type filter hook ingress device "${ifname}" priority 0; policy accept;`,
    ...rules.map((r) => `    ${r}`),
    '  }',
    '}',
  ].join('\n');
  await execa('ip', ['netns', 'exec', netns, 'nft', '-f', '-'], { input: script });
}
