/**
 * Does the link still carry traffic? One UDP datagram each way through
 * ordinary sockets, between variants: a device that stopped passing traffic
 * is found on the variant that broke it, not by every check after it.
 */
import type { Dut, LinkInfo, Side } from '../../drivers/types.js';
import { describeError, errorCode, isNicmatrixError } from '../errors.js';

/** Receiving ports of the probe (senders use these + 2): above the range checks draw theirs from. */
const PROBE_PORTS = { dut: 49_871, peer: 49_872 } as const;
/** How long one datagram may take; a loaded TCG guest answers well within it. */
const PROBE_WAIT_MS = 2_000;
/** Tries before the link is called gone (a single lost datagram is not a dead device). */
export const PROBE_ATTEMPTS = 3;

export interface ProbeResult {
  ok: boolean;
  /** Per direction: did a datagram arrive? */
  toDut: boolean;
  toPeer: boolean;
  attempts: number;
  ms: number;
  /** The probe itself could not run (an agent is gone): a harness fault, not a verdict on the link. */
  error?: string;
  errorCode?: string;
}

async function oneWay(dut: Dut, link: LinkInfo, from: Side, signal: AbortSignal): Promise<boolean> {
  const to: Side = from === 'dut' ? 'peer' : 'dut';
  const { id } = await dut.run(to, 'udp.recvStart', { family: 4, addr: link[to].ipv4, port: PROBE_PORTS[to] }, { signal });
  let sendOk = false;
  try {
    // A send the kernel refuses (the port is down: ENETUNREACH) is a datagram that did not pass, not a harness fault.
    sendOk = await dut
      .run(
        from,
        'udp.send',
        {
          family: 4,
          src: link[from].ipv4,
          dst: link[to].ipv4,
          sport: PROBE_PORTS[from] + 2,
          dport: PROBE_PORTS[to],
          payloads: ['bmljbWF0cml4IHByb2Jl'],
        },
        { signal },
      )
      .then(
        () => true,
        (e: unknown) => {
          if (isNicmatrixError(e, 'SYSCALL')) return false;
          throw e;
        },
      );
  } finally {
    const r = await dut.run(
      to,
      'udp.recvStop',
      { id, expect: sendOk ? 1 : 0, settleMs: 0, timeoutMs: sendOk ? PROBE_WAIT_MS : 0 },
      { signal },
    );
    sendOk &&= r.datagrams.length > 0;
  }
  return sendOk;
}

/** Probes both directions at once, up to PROBE_ATTEMPTS times; ok when both carried a datagram. */
export async function probeLink(dut: Dut, link: LinkInfo, signal: AbortSignal): Promise<ProbeResult> {
  const t0 = Date.now();
  let last: ProbeResult = { ok: false, toDut: false, toPeer: false, attempts: 0, ms: 0 };
  for (let attempt = 1; attempt <= PROBE_ATTEMPTS && !signal.aborted; attempt++) {
    try {
      const [toPeer, toDut] = link.sameInterface
        ? await oneWay(dut, link, 'dut', signal).then((ok) => [ok, ok])
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
      };
      break;
    }
    if (last.ok) break;
  }
  return last;
}
