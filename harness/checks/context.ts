/**
 * Temporary changes to a side's context that checks need (sysctls),
 * registered for undo before they are made, and undone on every path; a
 * side's kernel counters over a round.
 */
import { counterDelta } from '../agent/ethtool.js';
import type { Side } from '../../drivers/types.js';
import { cleanup } from '../sys/cleanup.js';
import type { IpFamily } from '../codec/index.js';
import type { CheckContext } from './types.js';

/** Runs `fn` with the sysctls set on `side`; restores the old values after (and on interrupt). */
export async function withSysctls<T>(
  ctx: CheckContext,
  side: Side,
  settings: Record<string, string>,
  fn: (previous: Record<string, string>) => Promise<T>,
): Promise<T> {
  const previous: Record<string, string> = {};
  const restore = cleanup.register(`restore ${Object.keys(settings).join(', ')} on the ${side}`, async () => {
    for (const [name, value] of Object.entries(previous).reverse()) await ctx.dut.run(side, 'sysctl.set', { name, value });
  });
  try {
    for (const [name, value] of Object.entries(settings))
      previous[name] = (await ctx.dut.run(side, 'sysctl.set', { name, value })).previous;
    return await fn(previous);
  } finally {
    await restore.run();
  }
}

/**
 * Sysctls the DUT needs to accept the peer's hand-made IPv4 frames: when DUT and
 * peer share one interface (loopback), the peer's source address is local to the
 * DUT, and a frame that did not come from the DUT's own stack is a martian
 * unless accept_local allows it.
 */
export function injectionSysctls(ctx: CheckContext, families: readonly IpFamily[]): Record<string, string> {
  if (!ctx.link.sameInterface || !families.includes(4)) return {};
  return { [`net.ipv4.conf.${ctx.link.dut.ifname}.accept_local`]: '1' };
}

/** Reads a side's kernel counters; the returned function gives the deltas since. */
export async function nstatSince(ctx: CheckContext, side: Side): Promise<() => Promise<Record<string, number>>> {
  const before = await ctx.dut.run(side, 'nstat.read', {});
  return async () => counterDelta(before, await ctx.dut.run(side, 'nstat.read', {}));
}
