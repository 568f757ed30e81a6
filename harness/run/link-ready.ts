/** Waiting for the DUT's link after an offload change: some drivers reset the device (e1000: carrier off ~2 s). */
import type { Dut } from '../../drivers/types.js';

/** Longest wait for the DUT's link to come back after a variant changed its features. */
export const LINK_UP_TIMEOUT_MS = 20_000;
const POLL_MS = 200;

/** Resolves with how long it waited; after the bound the variant runs anyway and is judged on what happens. */
export async function linkReady(dut: Dut, ifname: string, signal: AbortSignal, log: (line: string) => void): Promise<number> {
  const start = Date.now();
  for (;;) {
    const { operstate } = await dut.run('dut', 'link.info', { ifname });
    // Loopback and some virtual devices report UNKNOWN while fully working.
    if (operstate === 'UP' || operstate === 'UNKNOWN') return Date.now() - start;
    if (Date.now() - start >= LINK_UP_TIMEOUT_MS || signal.aborted) {
      log(`the DUT's link is still ${operstate} after ${LINK_UP_TIMEOUT_MS / 1000} s; running anyway`);
      return Date.now() - start;
    }
    await new Promise((res) => setTimeout(res, POLL_MS));
  }
}
