/** Waiting for the DUT's link after an offload change: some drivers reset the device (e1000: carrier off ~2 s). */
import type { Dut } from '../../drivers/types.js';
import { isNicmatrixError } from '../codec/errors.js';

/** Longest wait for the DUT's link to come back after a variant changed its features. */
export const LINK_UP_TIMEOUT_MS = 20_000;
const POLL_MS = 200;

/**
 * Resolves with how long it waited, as soon as the link is up (the agent
 * watches it); after the bound the variant runs anyway and is judged on what happens.
 */
export async function linkReady(dut: Dut, ifname: string, signal: AbortSignal, log: (line: string) => void): Promise<number> {
  const start = Date.now();
  try {
    const r = await dut.run(
      'dut',
      'link.wait',
      { ifname, timeoutMs: LINK_UP_TIMEOUT_MS },
      { signal, timeoutMs: LINK_UP_TIMEOUT_MS + 10_000 },
    );
    if (!r.up) log(`the DUT's link is still ${r.operstate} after ${LINK_UP_TIMEOUT_MS / 1000} s; running anyway`);
    return Date.now() - start;
  } catch (e) {
    // An agent without link.wait (a native agent of another architecture) is polled instead.
    if (
      !isNicmatrixError(e, 'UNSUPPORTED_ACTION') &&
      !(isNicmatrixError(e, 'AGENT') && /unknown action/.test(String((e as Error).message)))
    )
      throw e;
  }
  for (;;) {
    const { operstate } = await dut.run('dut', 'link.info', { ifname });
    if (operstate === 'UP' || operstate === 'UNKNOWN') return Date.now() - start;
    if (Date.now() - start >= LINK_UP_TIMEOUT_MS || signal.aborted) {
      log(`the DUT's link is still ${operstate} after ${LINK_UP_TIMEOUT_MS / 1000} s; running anyway`);
      return Date.now() - start;
    }
    await new Promise((res) => setTimeout(res, POLL_MS));
  }
}
