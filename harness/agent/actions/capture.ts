/** Agent actions capture.start / capture.stop: AF_PACKET captures kept open as agent resources. */
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { NicmatrixError } from '../../codec/errors.js';
import { Capture } from '../../sys/capture.js';
import { PACKET_OUTGOING, VIRTIO_NET_HDR_F_NEEDS_CSUM } from '../../sys/consts.js';
import type { ReceivedFrame } from '../../sys/packet.js';
import { sideCounters } from '../counters.js';
import type { CapturedFrame } from '../protocol.js';
import { callSignal, defineAction } from '../registry.js';

declare module '../protocol.js' {
  interface CapturedFrame {
    /** virtio_net_hdr flags of a vnetHdr capture (NEEDS_CSUM = 1, DATA_VALID = 2). */
    vnetFlags?: number;
    /** For a GSO super-frame of a vnetHdr capture: VIRTIO_NET_HDR_GSO_* and the segment size. */
    gsoType?: number;
    gsoSize?: number;
  }
}

/** A frame as the RPC carries it; offsets of a partial checksum only when the kernel flagged one. */
export function toCapturedFrame(f: ReceivedFrame, startNs: bigint): CapturedFrame {
  const out: CapturedFrame = {
    data: f.data.toString('base64'),
    len: f.aux.len,
    status: f.aux.status,
    pkttype: f.pkttype,
    vlanTci: f.aux.vlanTci,
    vlanTpid: f.aux.vlanTpid,
    tsNs: f.tsNs > startNs ? Number(f.tsNs - startNs) : 0,
  };
  if (f.vnet) {
    out.vnetFlags = f.vnet.flags;
    if (f.vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
      out.csumStart = f.vnet.csumStart;
      out.csumOffset = f.vnet.csumOffset;
    }
    if (f.vnet.gsoType !== 0) {
      out.gsoType = f.vnet.gsoType;
      out.gsoSize = f.vnet.gsoSize;
    }
  }
  return out;
}

defineAction('capture.start', async ({ ifname, snaplen, vnetHdr }, ctx) => {
  const cap = Capture.start(ifname, { snaplen, vnetHdr });
  const id = ctx.newId('capture');
  ctx.resources.set(id, cap);
  return { id };
});

/** How often a capture waiting on a device's drop counters reads them (frames arrive far more often). */
const DROPS_POLL_MS = 200;

/** The most any of the named counters rose since `before`: drops a device counted (one drop is often counted twice). */
function dropsSince(drops: { ifname: string; before: Record<string, number> }): () => Promise<number> {
  let last = 0;
  let readAt = 0;
  return async () => {
    if (Date.now() - readAt < DROPS_POLL_MS) return last;
    const now = await sideCounters(drops.ifname);
    readAt = Date.now();
    last = Object.entries(drops.before).reduce((most, [k, v]) => Math.max(most, (now[k] ?? v) - v), 0);
    return last;
  };
}

defineAction('capture.stop', async ({ id, settleMs, expect, timeoutMs, ignoreOutgoing, dropsFrom, quietMs }, ctx) => {
  const cap = ctx.resources.get(id);
  if (!(cap instanceof Capture))
    throw new NicmatrixError('AGENT', `capture.stop: expected an open capture "${id}", found ${cap ? 'another kind of resource' : 'none'}`);
  ctx.resources.delete(id);
  const keep = ignoreOutgoing ? (f: ReceivedFrame) => f.pkttype !== PACKET_OUTGOING : undefined;
  const accountedElsewhere = dropsFrom ? dropsSince(dropsFrom) : undefined;
  const r = await cap.stop({ settleMs, expect, timeoutMs, keep, signal: callSignal(), accountedElsewhere, quietMs });
  const frames: CapturedFrame[] = [];
  for (const f of r.frames) {
    frames.push(toCapturedFrame(f, r.startNs));
    // Encoding a big capture yields now and then: the agent keeps answering meanwhile.
    if (frames.length % 512 === 0) await yieldLoop();
  }
  return { frames, dropped: r.dropped };
});
