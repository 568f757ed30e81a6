/**
 * Agent action link.pace: a token bucket (tc tbf) on an interface's egress, so
 * frames leave at a link's speed. A socket's datagram leaves as a burst of
 * fragments at the tap's unlimited speed; a real cable spaces them, and a slow
 * emulated receiver's ring (pcnet: 32 entries) overflows without that.
 */
import { NicmatrixError } from '../../codec/errors.js';
import { run } from '../../sys/exec.js';
import { defineAction } from '../registry.js';

declare module '../protocol.js' {
  interface ActionMap {
    /** Paces the interface's egress to `rateMbps` (null: takes the pacing off again). */
    'link.pace': { params: { ifname: string; rateMbps: number | null; mtu?: number }; result: { paced: boolean } };
  }
}

/** Longest a frame may wait in the bucket: long enough that a whole round fits, so none is dropped there. */
const PACE_LATENCY_S = 30;
/** Timer ticks the bucket must cover (HZ 250 on most kernels): a smaller burst would pace slower than asked. */
const TICKS_PER_S = 250;

/** `tc qdisc replace … tbf` arguments for a rate (pure). */
export function tbfArgs(ifname: string, rateMbps: number, mtu = 1500): string[] {
  if (!(rateMbps > 0)) throw new NicmatrixError('USAGE', `link.pace: expected a rate above 0 Mb/s, found ${rateMbps}`);
  const kbit = Math.max(8, Math.round(rateMbps * 1000));
  const burst = Math.max(2 * (mtu + 18), Math.ceil((kbit * 1000) / 8 / TICKS_PER_S));
  return ['qdisc', 'replace', 'dev', ifname, 'root', 'tbf', 'rate', `${kbit}kbit`, 'burst', String(burst), 'latency', `${PACE_LATENCY_S}s`];
}

defineAction('link.pace', async ({ ifname, rateMbps, mtu }) => {
  if (rateMbps === null) {
    // Nothing to take off is fine: the interface is as it was.
    await run('tc', ['qdisc', 'del', 'dev', ifname, 'root'], { reject: false });
    return { paced: false };
  }
  await run('tc', tbfArgs(ifname, rateMbps, mtu));
  return { paced: true };
});
