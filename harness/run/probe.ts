/**
 * Does the link still carry traffic? One raw frame each way, seen by a
 * capture on the other end, between variants: a device that stopped passing
 * traffic is found on the variant that broke it, not by every check after it.
 */
import type { Dut, LinkInfo, Side } from '../../drivers/types.js';
import { describeError, errorCode, isNicmatrixError } from '../codec/errors.js';

/** How long one frame may take; a loaded TCG guest answers well within it. */
const PROBE_WAIT_MS = 2_000;
/** Tries before the link is called gone (a single lost frame is not a dead device). */
export const PROBE_ATTEMPTS = 3;

export interface ProbeResult {
  ok: boolean;
  /** Per direction: did the frame arrive? */
  toDut: boolean;
  toPeer: boolean;
  attempts: number;
  ms: number;
  /** The probe itself could not run (an agent is gone): a harness fault, not a verdict on the link. */
  error?: string;
  errorCode?: string;
  /** The error came from a guest whose QEMU still runs but no longer answers: a hang a restart may cure. */
  guestHung?: boolean;
}

/**
 * IEEE local experimental EtherType 2: no stack on the path interprets it, and no check sends it (the
 * generic TX case uses experimental EtherType 1), so a device fault that a check provokes does not touch it.
 */
const PROBE_ETHERTYPE = 0x88b6;

function mac(m: string): Buffer {
  return Buffer.from(m.split(':').map((x) => parseInt(x, 16)));
}

const PROBE_TEXT = Buffer.from('nicmatrix link probe');

function probeFrame(link: LinkInfo, from: Side, to: Side): Buffer {
  const header = Buffer.concat([mac(link[to].mac), mac(link[from].mac), Buffer.from([PROBE_ETHERTYPE >> 8, PROBE_ETHERTYPE & 0xff])]);
  // Padded to the minimum frame, so no device has a reason to touch it.
  return Buffer.concat([header, PROBE_TEXT, Buffer.alloc(26)]);
}

/**
 * A probe that arrived, however altered: its EtherType or its text is enough. A device that rewrites addresses or
 * bytes still passes traffic, and the checks, which see those frames, not the probe, must judge what it does to them.
 */
export function isProbeFrame(data: Buffer): boolean {
  return (data.length >= 14 && data.readUInt16BE(12) === PROBE_ETHERTYPE) || data.includes(PROBE_TEXT);
}

/**
 * One frame from `from` seen by a capture on `to`. A raw L2 frame, not a UDP datagram: a device whose
 * fault is in its UDP or IP handling still passes traffic, and the checks, not the probe, must judge that fault.
 */
async function oneWay(dut: Dut, link: LinkInfo, from: Side, signal: AbortSignal): Promise<boolean> {
  const to: Side = from === 'dut' ? 'peer' : 'dut';
  // A port that is down refuses the capture or the send (ENETDOWN): a frame that did not pass, not a harness fault.
  const downIsFalse = (e: unknown): false => {
    if (isNicmatrixError(e, 'SYSCALL')) return false;
    throw e;
  };
  const started = await dut.run(to, 'capture.start', { ifname: link[to].ifname }, { signal }).catch(downIsFalse);
  if (!started) return false;
  let sendOk = false;
  try {
    sendOk = await dut
      .run(from, 'packet.send', { ifname: link[from].ifname, frames: [probeFrame(link, from, to).toString('base64')] }, { signal })
      .then(() => true, downIsFalse);
  } finally {
    const r = await dut
      .run(
        to,
        'capture.stop',
        { id: started.id, expect: sendOk ? 1 : 0, settleMs: 0, timeoutMs: sendOk ? PROBE_WAIT_MS : 0, ignoreOutgoing: true },
        { signal },
      )
      .catch(downIsFalse);
    sendOk &&= r !== false && r.frames.some((f) => isProbeFrame(Buffer.from(f.data, 'base64')));
  }
  return sendOk;
}

/** Probes both directions at once, up to PROBE_ATTEMPTS times; ok when both carried the frame. */
export async function probeLink(dut: Dut, link: LinkInfo, signal: AbortSignal): Promise<ProbeResult> {
  const t0 = Date.now();
  let last: ProbeResult = { ok: false, toDut: false, toPeer: false, attempts: 0, ms: 0 };
  for (let attempt = 1; attempt <= PROBE_ATTEMPTS && !signal.aborted; attempt++) {
    try {
      const [toPeer, toDut] = link.sameInterface
        ? await oneWay(dut, link, 'dut', signal).then((ok): [boolean, boolean] => [ok, ok])
        : await Promise.all([oneWay(dut, link, 'dut', signal), oneWay(dut, link, 'peer', signal)]);
      last = { ok: toPeer && toDut, toDut, toPeer, attempts: attempt, ms: Date.now() - t0 };
    } catch (e) {
      last = {
        ok: false,
        toDut: false,
        toPeer: false,
        attempts: attempt,
        ms: Date.now() - t0,
        error: describeError(e),
        errorCode: errorCode(e),
        guestHung: isNicmatrixError(e, 'GUEST') && (e.details as { qemuExit?: unknown } | undefined)?.qemuExit === null,
      };
      break;
    }
    if (last.ok) break;
  }
  return last;
}
