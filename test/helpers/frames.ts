/** Captured frames for judge tests: what an AF_PACKET capture reports of `data`, with any field overridden. */
import type { CapturedFrame } from '../../harness/agent/protocol.js';

export function captured(data: Buffer, extra: Partial<CapturedFrame> = {}): CapturedFrame {
  return { data: data.toString('base64'), len: data.length, status: 0, pkttype: 0, vlanTci: 0, vlanTpid: 0, tsNs: 0, ...extra };
}
