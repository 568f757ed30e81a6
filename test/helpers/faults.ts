/**
 * Deliberately broken devices: an nftables netdev egress rule on the DUT
 * interface rewrites chosen bytes on their way out, after the stack and the
 * driver are done with them — what a buggy NIC would do on the wire.
 */
import { execa } from 'execa';

/** Adds a netdev chain on `hook` with `rules` on `ifname` inside `netns` (its own table per hook). */
async function corrupt(hook: 'egress' | 'ingress', netns: string, ifname: string, rules: string[]): Promise<void> {
  const script = [
    `table netdev nicmatrix_${hook}_fault {`,
    `  chain ${hook} { type filter hook ${hook} device "${ifname}" priority 0; policy accept;`,
    ...rules.map((r) => `    ${r}`),
    '  }',
    '}',
  ].join('\n');
  await execa('ip', ['netns', 'exec', netns, 'nft', '-f', '-'], { input: script });
}

/** Rewrites frames on their way out of `ifname`. */
export function corruptEgress(netns: string, ifname: string, rules: string[]): Promise<void> {
  return corrupt('egress', netns, ifname, rules);
}

/** Rewrites frames after AF_PACKET taps saw them, before the stack does. */
export function corruptIngress(netns: string, ifname: string, rules: string[]): Promise<void> {
  return corrupt('ingress', netns, ifname, rules);
}

/** Removes the fault chain of `hook` from `netns` (the device heals mid-run). */
export async function removeFault(hook: 'egress' | 'ingress', netns: string): Promise<void> {
  await execa('ip', ['netns', 'exec', netns, 'nft', 'delete', 'table', 'netdev', `nicmatrix_${hook}_fault`]);
}
