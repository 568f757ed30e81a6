/**
 * `zc/msg-zerocopy` and `zc/msg-zerocopy-honoured`: the DUT sends with
 * SO_ZEROCOPY + send(MSG_ZEROCOPY) over TCP (IPv4, IPv6) and UDP; the peer
 * verifies the bytes; the completions on the error queue are tallied. The
 * first check judges bytes and completions, the second whether the kernel
 * sent from the user's pages (its own matrix column).
 */
import type { IpFamily } from '../../codec/index.js';
import { createRng } from '../../random.js';
import type { CheckContext, CheckOutcome } from '../types.js';
import { combineModes, type CompletionTally, tallyCompletions } from './completions.js';
import { counterFaults, honouredOutcome, streamFaults } from './judge.js';
import { addresses, connectionFaults, counting, portSource, startReceiver, withReceivers } from './session.js';
import { udpDatagramSize, zerocopyLengths } from './zerocopy-plan.js';

/** One flow of a MSG_ZEROCOPY session and what was found. */
export interface FlowResult {
  flow: string;
  bytes: number;
  tally?: CompletionTally;
  /** The kernel refused SO_ZEROCOPY on this kind of socket. */
  unsupported?: string;
  lost?: number;
  faults: string[];
}

async function tcpFlow(
  ctx: CheckContext,
  family: IpFamily,
  port: number,
  seed: number,
  size: number,
  lengths: number[],
): Promise<FlowResult> {
  const flow = `TCP/IPv${family} ${lengths.length} sends, ${size} bytes`;
  const rx = await startReceiver(ctx, family, port, { file: { seed, size }, offset: 0, count: size });
  return withReceivers([rx], async () => {
    const { src, dst } = addresses(ctx, family);
    const r = await ctx.dut.run(
      'dut',
      'zc.zerocopySend',
      { proto: 'tcp', family, src, dst, dport: port, seed, size, lengths },
      { timeoutMs: 150_000 },
    );
    const wait = r.failure || r.unsupported ? 2000 : 60_000;
    const got = await rx.stop(wait);
    if (r.unsupported) return { flow, bytes: 0, unsupported: r.unsupported, faults: [] };
    const tally = tallyCompletions(r.calls, r.completions);
    const faults = [
      ...(r.failure ? [`${flow}: the DUT's send failed: ${r.failure}`] : []),
      ...tally.faults.map((f) => `${flow}: ${f}`),
      ...connectionFaults(flow, got, wait),
      ...streamFaults(flow, got.exact!),
    ];
    return { flow, bytes: got.exact!.bytes, tally, faults };
  });
}

async function udpFlow(ctx: CheckContext, port: number, seed: number, count: number): Promise<FlowResult> {
  const datagram = udpDatagramSize(ctx.link.dut.mtu, 4);
  const size = datagram * count;
  const flow = `UDP/IPv4 ${count} datagrams of ${datagram} bytes`;
  const { src, dst } = addresses(ctx, 4);
  const layout = { seed, size };
  const { id } = await ctx.dut.run('peer', 'zc.udpRecvStart', { family: 4, addr: dst, port, layout, datagram });
  let stopped = false;
  try {
    const r = await ctx.dut.run(
      'dut',
      'zc.zerocopySend',
      { proto: 'udp', family: 4, src, dst, dport: port, seed, size, lengths: new Array<number>(count).fill(datagram) },
      { timeoutMs: 150_000 },
    );
    const got = await ctx.dut.run(
      'peer',
      'zc.udpRecvStop',
      { id, expect: r.unsupported || r.failure ? 0 : count, timeoutMs: 15_000 },
      { timeoutMs: 45_000 },
    );
    stopped = true;
    if (r.unsupported) return { flow, bytes: 0, unsupported: r.unsupported, faults: [] };
    const tally = tallyCompletions(r.calls, r.completions);
    const faults = [...(r.failure ? [`${flow}: the DUT's send failed: ${r.failure}`] : []), ...tally.faults.map((f) => `${flow}: ${f}`)];
    if (got.wrong > 0 && got.mismatch)
      faults.push(
        `${flow}: ${got.wrong} datagram(s) arrived with wrong bytes, first at stream offset ${got.mismatch.offset} (expected ${got.mismatch.expected}, found ${got.mismatch.found})`,
      );
    if (got.matched === 0) faults.push(`${flow}: no datagram arrived intact`);
    return { flow, bytes: got.bytes, tally, lost: got.lost, faults };
  } finally {
    if (!stopped) await ctx.dut.run('peer', 'zc.udpRecvStop', { id, expect: 0, timeoutMs: 0 }).catch(() => undefined);
  }
}

/** A whole session: `tcp` flows (family, size) and one UDP flow of `udpCount` datagrams. */
export async function zerocopySession(ctx: CheckContext, tcp: [IpFamily, number][], udpCount: number): Promise<FlowResult[]> {
  const rng = createRng(ctx.seed);
  const port = portSource(rng);
  const out: FlowResult[] = [];
  for (const [family, size] of tcp) out.push(await tcpFlow(ctx, family, port(), rng.u32(), size, zerocopyLengths(size)));
  out.push(await udpFlow(ctx, port(), rng.u32(), udpCount));
  return out;
}

function modeOf(flows: FlowResult[]) {
  return combineModes(flows.filter((f) => f.tally).map((f) => f.tally!.zerocopy));
}

function flowEvidence(flows: FlowResult[]) {
  return flows.map((f) => ({
    flow: f.flow,
    bytes: f.bytes,
    unsupported: f.unsupported,
    lost: f.lost,
    completions: f.tally && { ...f.tally, faults: undefined },
    ok: f.faults.length === 0,
  }));
}

export async function runMsgZerocopy(ctx: CheckContext): Promise<CheckOutcome> {
  const {
    value: flows,
    dut,
    peer,
  } = await counting(ctx, () =>
    zerocopySession(
      ctx,
      [
        [4, 4 << 20],
        [6, 1 << 20],
      ],
      128,
    ),
  );
  const zerocopy = modeOf(flows);
  const faults = [...flows.flatMap((f) => f.faults), ...counterFaults(peer, dut)];
  const copied = flows.reduce((a, f) => a + (f.tally?.copiedCalls ?? 0), 0);
  const calls = flows.reduce((a, f) => a + (f.tally?.calls ?? 0), 0);
  const evidence = {
    zerocopy,
    copiedCalls: copied,
    calls,
    flows: flowEvidence(flows),
    peerCsumErrors: peer.TcpInCsumErrors ?? 0,
    retransmittedSegments: dut.TcpRetransSegs ?? 0,
    ...(faults.length > 0 ? { faults } : {}),
  };
  const unsupported = flows.filter((f) => f.unsupported).map((f) => `${f.flow}: SO_ZEROCOPY refused (${f.unsupported})`);
  if (faults.length > 0)
    return {
      status: 'fail',
      message: faults.slice(0, 3).join('; ') + (faults.length > 3 ? `; and ${faults.length - 3} more` : ''),
      evidence,
    };
  const how =
    zerocopy === 'copied'
      ? 'all copied by the kernel (SO_EE_CODE_ZEROCOPY_COPIED)'
      : zerocopy === 'mixed'
        ? `${copied} of ${calls} copied by the kernel`
        : 'none copied';
  const notes = unsupported.length > 0 ? `; ${unsupported.join('; ')}` : '';
  return {
    status: 'pass',
    message: `${calls} MSG_ZEROCOPY send calls each completed exactly once, bytes exact on the peer; ${how}${notes}`,
    evidence,
  };
}

/** Drivers whose "transmit" hands the frame to a local socket in another namespace: the receive path copies user pages. */
const LOCAL_DELIVERY_DRIVERS = new Set(['veth', 'netkit']);

export async function runHonoured(ctx: CheckContext): Promise<CheckOutcome> {
  const flows = await zerocopySession(ctx, [[4, 1 << 20]], 32);
  const zerocopy = modeOf(flows);
  const driver = await ctx.dut.run('dut', 'ethtool.driver', { ifname: ctx.link.dut.ifname }).then(
    (d) => d.name,
    () => undefined,
  );
  const localDelivery = ctx.link.sameInterface
    ? 'the loopback device'
    : driver && LOCAL_DELIVERY_DRIVERS.has(driver)
      ? `the ${driver} driver`
      : undefined;
  const sgActive = ctx.features['scatter-gather']?.active ?? false;
  const tally = {
    calls: flows.reduce((a, f) => a + (f.tally?.calls ?? 0), 0),
    copiedCalls: flows.reduce((a, f) => a + (f.tally?.copiedCalls ?? 0), 0),
  };
  const { status, message } = honouredOutcome(zerocopy, tally, { sgActive, localDelivery });
  const bytesExact = flows.every((f) => f.faults.length === 0);
  return { status, message, evidence: { zerocopy, ...tally, sgActive, driver, localDelivery, bytesExact, flows: flowEvidence(flows) } };
}
