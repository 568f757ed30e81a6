/**
 * Temporary changes to a side's context that receive checks need (sysctls),
 * registered for undo before they are made, and undone on every path.
 */
import { counterDelta } from '../../../drivers/ethtool.js';
import type { Side } from '../../../drivers/types.js';
import { cleanup } from '../../cleanup.js';
import type { IpFamily } from '../../codec/index.js';
import type { CheckContext } from '../types.js';

/** Runs `fn` with the sysctls set on `side`; restores the old values after (and on interrupt). */
export async function withSysctls<T>(ctx: CheckContext, side: Side, settings: Record<string, string>, fn: (previous: Record<string, string>) => Promise<T>): Promise<T> {
  const previous: Record<string, string> = {};
  const restore = cleanup.register(`restore ${Object.keys(settings).join(', ')} on the ${side}`, async () => {
    for (const [name, value] of Object.entries(previous).reverse()) await ctx.dut.run(side, 'sysctl.set', { name, value });
  });
  try {
    for (const [name, value] of Object.entries(settings)) previous[name] = (await ctx.dut.run(side, 'sysctl.set', { name, value })).previous;
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

/** Longest wait for the DUT's link to come back after the variant changed its features. */
const LINK_UP_TIMEOUT_MS = 20_000;

/**
 * Waits until the DUT's link is up: some drivers reset the device when an
 * offload changes (e1000: carrier off for about two seconds), and what is sent
 * meanwhile is lost or fails to fragment. Returns how long it waited; after the
 * bound the check runs anyway and judges what happens.
 */
export async function linkReady(ctx: CheckContext): Promise<number> {
  const start = Date.now();
  for (;;) {
    const { operstate } = await ctx.dut.run('dut', 'link.info', { ifname: ctx.link.dut.ifname });
    // Loopback and some virtual devices report UNKNOWN while fully working.
    if (operstate === 'UP' || operstate === 'UNKNOWN') return Date.now() - start;
    if (Date.now() - start >= LINK_UP_TIMEOUT_MS || ctx.signal.aborted) {
      ctx.log(`the DUT's link is still ${operstate} after ${LINK_UP_TIMEOUT_MS / 1000} s; running anyway`);
      return Date.now() - start;
    }
    await new Promise((res) => setTimeout(res, 200));
  }
}
