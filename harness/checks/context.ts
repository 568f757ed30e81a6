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

/** Between two readings of settled counters nothing may change for this long. */
const SETTLE_QUIET_MS = 150;
/** Longest a stack's counters are waited for after the frames reached it. */
const SETTLE_MAX_MS = 1000;

/**
 * Like nstatSince, but the reading waits until the counters stop moving: a frame the DUT's tap saw may still be in
 * its input backlog (a slow guest) when the capture ends, and its drop counted a moment later.
 */
export async function nstatSettledSince(ctx: CheckContext, side: Side): Promise<() => Promise<Record<string, number>>> {
  const since = await nstatSince(ctx, side);
  return async () => {
    const deadline = Date.now() + SETTLE_MAX_MS;
    let last = await since();
    for (;;) {
      if (Date.now() >= deadline) return last;
      await new Promise((r) => setTimeout(r, SETTLE_QUIET_MS));
      const now = await since();
      if (JSON.stringify(now) === JSON.stringify(last)) return now;
      last = now;
    }
  };
}
