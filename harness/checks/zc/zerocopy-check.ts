/**
 * `zc/msg-zerocopy` and `zc/msg-zerocopy-honoured`: the DUT sends with
 * SO_ZEROCOPY + send(MSG_ZEROCOPY) over TCP (IPv4, IPv6) and UDP; the peer
 * verifies the bytes through ordinary sockets; the completions on the error
 * queue are tallied; every datagram and every TCP retransmission is counted.
 * The first check judges delivery and completions, the second whether the
 * kernel sent from the user's pages (its own matrix column).
 */
import type { IpFamily } from '../../codec/index.js';
import { counterDelta } from '../../agent/ethtool.js';
import type { TcpStats } from '../../sys/tcp.js';
import { createRng } from '../../codec/random.js';
import { connectionSegments, judgeRetransmits, type RetransJudgement, retransEvidence, sumSegments } from '../retransmits.js';
import type { CheckContext, CheckOutcome } from '../types.js';
import { combineModes, type CompletionTally, tallyCompletions } from '../../codec/zc/completions.js';
import { honouredOutcome, streamFaults, type TransferCounters, transferFaults } from './judge.js';
import { addresses, connectionFaults, counting, deliveryOf, portSource, startReceiver, withPeerCapture, withReceivers } from './session.js';
import { describeTaps, parsePacketSockets, tapsOf } from './taps.js';
import { judgeStreamFrames, type StreamFrameFindings } from './wire-judge.js';
import { fullSegmentLengths, plannedMss, udpDatagramSize, zerocopyLengths } from './zerocopy-plan.js';

/** One flow of a MSG_ZEROCOPY session and what was found. */
export interface FlowResult {
  flow: string;
  proto: 'tcp' | 'udp';
  /** Bytes the DUT handed to send(); bytes the peer's socket received. */
  sent: number;
  bytes: number;
  tally?: CompletionTally;
  /** The kernel refused SO_ZEROCOPY on this kind of socket. */
  unsupported?: string;
  /** UDP: datagrams sent, arrived intact, lost. */
  datagrams?: { sent: number; matched: number; lost: number; wrong: number };
  tcp?: TcpStats;
  /** Data segments the DUT sent and the peer's socket got (every copy), when both ends said. */
  segments?: { sent: number; received: number };
  mss?: number;
  lengths?: number[];
  retransmits?: RetransJudgement;
  wire?: StreamFrameFindings & { dropped: number };
  faults: string[];
  /** What went wrong on the harness's side (its receiver overflowed): an `error`, never a device verdict. */
  harness: string[];
}

interface TcpFlowOptions {
  /** Capture the flow at the peer and judge every frame. */
  capture?: boolean;
  /** TCP_NODELAY on the DUT's socket (default true). */
  nodelay?: boolean;
}

async function tcpFlow(
  ctx: CheckContext,
  family: IpFamily,
  port: number,
  seed: number,
  lengths: number[],
  opts: TcpFlowOptions = {},
): Promise<FlowResult> {
  const size = lengths.reduce((a, b) => a + b, 0);
  const flow = `TCP/IPv${family} ${lengths.length} sends, ${size} bytes`;
  const spec = { file: { seed, size }, offset: 0, count: size };
  const { src, dst } = addresses(ctx, family);
  const run = async () => {
    const rx = await startReceiver(ctx, family, port, spec);
    return withReceivers([rx], async () => {
      const r = await ctx.dut.run(
        'dut',
        'zc.zerocopySend',
        { proto: 'tcp', family, src, dst, dport: port, seed, size, lengths, nodelay: opts.nodelay },
        { timeoutMs: 150_000 },
      );
      const wait = r.failure || r.unsupported ? 2000 : 60_000;
      return { r, got: await rx.stop(wait, r.tcp?.dataSegsOut), wait };
    });
  };
  const captured = opts.capture ? await withPeerCapture(ctx, run) : { value: await run(), frames: undefined, dropped: 0 };
  const { r, got, wait } = captured.value;
  const base = { flow, proto: 'tcp' as const, sent: r.bytes, lengths, harness: [] };
  if (r.unsupported) return { ...base, bytes: 0, unsupported: r.unsupported, faults: [] };
  const tally = tallyCompletions(r.calls, r.completions);
  const wire = captured.frames && { ...judgeStreamFrames(captured.frames, { src, dst, dport: port }, spec), dropped: captured.dropped };
  const faults = [
    ...(r.failure ? [`${flow}: the DUT's send failed: ${r.failure}`] : []),
    ...tally.faults.map((f) => `${flow}: ${f}`),
    ...connectionFaults(flow, got, wait),
    ...streamFaults(flow, got.exact!),
    ...(wire?.faults ?? []).map((f) => `${flow} on the wire: ${f}`),
  ];
  return { ...base, bytes: got.exact!.bytes, tally, tcp: r.tcp, segments: connectionSegments(r.tcp, got.tcp), mss: r.mss, wire, faults };
}

/** UDP receive-buffer overflows at the peer: datagrams the harness's receiver lost, not the device. */
const RCVBUF_ERRORS = ['UdpRcvbufErrors', 'Udp6RcvbufErrors'];

async function udpFlow(ctx: CheckContext, port: number, seed: number, count: number): Promise<FlowResult> {
  const datagram = udpDatagramSize(ctx.link.dut.mtu, 4);
  const size = datagram * count;
  const flow = `UDP/IPv4 ${count} datagrams of ${datagram} bytes`;
  const { src, dst } = addresses(ctx, 4);
  const layout = { seed, size };
  const peerBefore = await ctx.dut.run('peer', 'nstat.read', {});
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
    const base = { flow, proto: 'udp' as const, sent: r.bytes, harness: [] as string[] };
    if (r.unsupported) return { ...base, bytes: 0, unsupported: r.unsupported, faults: [] };
    const peerDelta = counterDelta(peerBefore, await ctx.dut.run('peer', 'nstat.read', {}));
    const tally = tallyCompletions(r.calls, r.completions);
    const sentCount = Math.ceil(r.bytes / datagram);
    const faults = [...(r.failure ? [`${flow}: the DUT's send failed: ${r.failure}`] : []), ...tally.faults.map((f) => `${flow}: ${f}`)];
    if (got.wrong > 0 && got.mismatch)
      faults.push(
        `${flow}: ${got.wrong} datagram(s) arrived with wrong bytes, first at stream offset ${got.mismatch.offset} (expected ${got.mismatch.expected}, found ${got.mismatch.found})`,
      );
    const overflowed = RCVBUF_ERRORS.reduce((a, k) => a + (peerDelta[k] ?? 0), 0);
    const harness: string[] = [];
    if (got.lost > 0 && overflowed > 0)
      harness.push(
        `${flow}: ${got.lost} of ${count} datagram(s) lost in the peer's socket buffer (receive-buffer errors +${overflowed}): the harness's receiver was too slow`,
      );
    else if (got.lost > 0)
      faults.push(`${flow}: ${got.lost} of ${count} datagram(s) sent never arrived at the peer (${got.matched} arrived intact)`);
    return {
      ...base,
      bytes: got.bytes,
      tally,
      datagrams: { sent: sentCount, matched: got.matched, lost: got.lost, wrong: got.wrong },
      faults,
      harness,
    };
  } finally {
    if (!stopped) await ctx.dut.run('peer', 'zc.udpRecvStop', { id, expect: 0, timeoutMs: 0 }).catch(() => undefined);
  }
}

interface TcpPlan {
  family: IpFamily;
  lengths: number[];
  opts?: TcpFlowOptions;
}

/** A whole session: the `tcp` flows, then one UDP flow of `udpCount` datagrams. */
export async function zerocopySession(ctx: CheckContext, tcp: TcpPlan[], udpCount: number): Promise<FlowResult[]> {
  const rng = createRng(ctx.seed);
  const port = portSource(rng);
  const out: FlowResult[] = [];
  for (const t of tcp) out.push(await tcpFlow(ctx, t.family, port(), rng.u32(), t.lengths, t.opts));
  out.push(await udpFlow(ctx, port(), rng.u32(), udpCount));
  return out;
}

function modeOf(flows: FlowResult[]) {
  return combineModes(flows.filter((f) => f.tally).map((f) => f.tally!.zerocopy));
}

function flowEvidence(flows: FlowResult[]) {
  return flows.map((f) => ({
    flow: f.flow,
    sent: f.sent,
    bytes: f.bytes,
    unsupported: f.unsupported,
    datagrams: f.datagrams,
    completions: f.tally && { ...f.tally, faults: undefined },
    tcp: f.tcp,
    mss: f.mss,
    retransmits: f.retransmits && retransEvidence(f.retransmits),
    wire: f.wire && { ...f.wire, faults: undefined },
    ok: f.faults.length === 0,
  }));
}

/** TCP bytes the DUT handed over in a session: what its retransmissions are bounded by. */
const tcpBytes = (flows: FlowResult[]) => flows.filter((f) => f.proto === 'tcp').reduce((a, f) => a + f.sent, 0);

/**
 * Judges a session's lost TCP segments: all flows together from nstat, and
 * each connection from its own TCP_INFO (a loss concentrated in one flow is
 * not diluted by the others); the faults are added to the flows.
 */
function judgeSessionLoss(flows: FlowResult[], counted: TransferCounters, localDelivery: boolean) {
  const tcpFlows = flows.filter((f) => f.proto === 'tcp');
  const transfer = transferFaults('MSG_ZEROCOPY over TCP', tcpBytes(flows), counted, localDelivery, sumSegments(tcpFlows));
  for (const f of flows) {
    if (!f.tcp) continue;
    f.retransmits = judgeRetransmits({
      bytes: f.sent,
      retransSegs: f.tcp.totalRetrans,
      spuriousSegs: f.tcp.dsackDups,
      receiverDropSegs: transfer.receiverDropSegs,
      segments: f.segments,
      what: f.flow,
    });
    if (!f.retransmits.ok) f.faults.push(f.retransmits.message);
  }
  return transfer;
}

export async function runMsgZerocopy(ctx: CheckContext): Promise<CheckOutcome> {
  const { localDelivery } = await deliveryOf(ctx);
  const counted = await counting(ctx, () =>
    zerocopySession(
      ctx,
      [
        { family: 4, lengths: zerocopyLengths(4 << 20), opts: { capture: true } },
        { family: 6, lengths: zerocopyLengths(1 << 20) },
      ],
      128,
    ),
  );
  const { value: flows, peer } = counted;
  const zerocopy = modeOf(flows);
  const transfer = judgeSessionLoss(flows, counted, localDelivery !== undefined);
  const faults = [...flows.flatMap((f) => f.faults), ...transfer.faults];
  const harness = flows.flatMap((f) => f.harness);
  const copied = flows.reduce((a, f) => a + (f.tally?.copiedCalls ?? 0), 0);
  const calls = flows.reduce((a, f) => a + (f.tally?.calls ?? 0), 0);
  const evidence = {
    zerocopy,
    copiedCalls: copied,
    calls,
    flows: flowEvidence(flows),
    retransmits: retransEvidence(transfer.retransmits),
    peerCsumErrors: peer.TcpInCsumErrors ?? 0,
    ...(faults.length > 0 ? { faults } : {}),
    ...(harness.length > 0 ? { harnessFaults: harness } : {}),
  };
  const unsupported = flows.filter((f) => f.unsupported).map((f) => `${f.flow}: SO_ZEROCOPY refused (${f.unsupported})`);
  if (faults.length > 0)
    return {
      status: 'fail',
      message: faults.slice(0, 3).join('; ') + (faults.length > 3 ? `; and ${faults.length - 3} more` : ''),
      evidence,
    };
  if (harness.length > 0) return { status: 'error', message: harness.join('; '), evidence };
  const how =
    zerocopy === 'copied'
      ? 'all copied by the kernel (SO_EE_CODE_ZEROCOPY_COPIED)'
      : zerocopy === 'mixed'
        ? `${copied} of ${calls} copied by the kernel`
        : 'none copied';
  const notes = unsupported.length > 0 ? `; ${unsupported.join('; ')}` : '';
  const sent = flows.reduce((a, f) => a + f.sent, 0);
  return {
    status: 'pass',
    message: `${calls} MSG_ZEROCOPY send calls each completed exactly once, all ${sent} bytes exact on the peer; ${how}; ${transfer.retransmits.deviceLost} TCP segment(s) lost (${transfer.retransmits.found} retransmitted), bound ${transfer.retransmits.bound}${notes}`,
    evidence,
  };
}

/** The honoured session's TCP data: about 1 MiB in sends of whole segments. */
const HONOURED_TCP_BYTES = 1 << 20;

export async function runHonoured(ctx: CheckContext): Promise<CheckOutcome> {
  const ifname = ctx.link.dut.ifname;
  const readTaps = async () => {
    const r = await ctx.dut.run('dut', 'zc.packetSockets', { ifname });
    return tapsOf(parsePacketSockets(r.text), r.ifindex);
  };
  const mss = plannedMss(Math.min(ctx.link.dut.mtu, ctx.link.peer.mtu), 4);
  const lengths = fullSegmentLengths(mss, HONOURED_TCP_BYTES);
  const tapsBefore = await readTaps();
  // Nagle on: a window-limited tail waits to become a full segment instead of leaving as a short frame.
  const counted = await counting(ctx, () => zerocopySession(ctx, [{ family: 4, lengths, opts: { nodelay: false } }], 32));
  const flows = counted.value;
  const tapsAfter = await readTaps();
  const taps = describeTaps([...tapsBefore, ...tapsAfter.filter((t) => !tapsBefore.some((b) => b.inode === t.inode))]);
  const zerocopy = modeOf(flows);
  const { driver, localDelivery } = await deliveryOf(ctx);
  const sgActive = ctx.features['scatter-gather']?.active ?? false;
  const tally = {
    calls: flows.reduce((a, f) => a + (f.tally?.calls ?? 0), 0),
    copiedCalls: flows.reduce((a, f) => a + (f.tally?.copiedCalls ?? 0), 0),
  };
  const transfer = judgeSessionLoss(flows, counted, localDelivery !== undefined);
  const actual = flows.filter((f) => f.mss !== undefined).map((f) => f.mss!);
  const fullSegments = { ok: actual.every((m) => lengths.every((l) => l % m === 0)), planned: mss, actual };
  const deliveryFaults = [...flows.flatMap((f) => f.faults), ...transfer.faults];
  const harness = flows.flatMap((f) => f.harness);
  const outcome = honouredOutcome({ mode: zerocopy, ...tally, deliveryFaults, sgActive, localDelivery, taps, fullSegments });
  const { status, message } =
    outcome.status === 'fail' || harness.length === 0 ? outcome : { status: 'error' as const, message: harness.join('; ') };
  return {
    status,
    message,
    evidence: {
      zerocopy,
      ...tally,
      sgActive,
      driver,
      localDelivery,
      taps,
      fullSegments,
      bytesExact: deliveryFaults.length === 0,
      retransmits: retransEvidence(transfer.retransmits),
      flows: flowEvidence(flows),
      ...(deliveryFaults.length > 0 ? { faults: deliveryFaults } : {}),
    },
  };
}
