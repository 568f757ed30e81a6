/** Capturing on one side of the link while an action runs: the shared shape of every round. */
import type { Side } from '../../drivers/types.js';
import type { CapturedFrame } from '../agent/protocol.js';
import type { CheckContext } from './types.js';

/** After the last frame was handed over, how long the wire may take to deliver it. */
export const SETTLE_MS = 300;
/** Upper bound to wait for the expected frames (a TCG guest is slow). */
export const ARRIVAL_TIMEOUT_MS = 15_000;

export interface CaptureOptions {
  /** Ask for virtio_net_hdr with each frame (csum_start/csum_offset of partial frames). */
  vnetHdr?: boolean;
}

/**
 * Runs `act` while `side` captures on its interface; returns every frame
 * captured (outgoing ones left out), the kernel's drops, and the action's
 * error if it failed (then without waiting for frames that will not come).
 */
export async function captureWhile(
  ctx: CheckContext,
  side: Side,
  expect: number,
  act: () => Promise<unknown>,
  opts: CaptureOptions = {},
): Promise<{ frames: CapturedFrame[]; dropped: number; sendError: unknown }> {
  const ifname = ctx.link[side].ifname;
  const { id } = await ctx.dut.run(side, 'capture.start', { ifname, vnetHdr: opts.vnetHdr });
  let sendError: unknown;
  try {
    await act();
  } catch (e) {
    sendError = e;
  }
  const wait = sendError === undefined ? { expect, settleMs: SETTLE_MS, timeoutMs: ARRIVAL_TIMEOUT_MS } : { settleMs: 0 };
  const { frames, dropped } = await ctx.dut.run(
    side,
    'capture.stop',
    { id, ...wait, ignoreOutgoing: true },
    { timeoutMs: ARRIVAL_TIMEOUT_MS + 30_000 },
  );
  if (dropped > 0) ctx.log(`${side} capture: the kernel dropped ${dropped} frame(s)`);
  return { frames, dropped, sendError };
}
