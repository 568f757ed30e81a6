/**
 * `zc/sendfile`: the DUT sends files with sendfile(2) over TCP, the peer
 * verifies every byte as it streams (hash, first differing offset), for
 * every case of the plan; the large case records throughput and the peer's
 * peak memory.
 */
import type { IpFamily } from '../../codec/index.js';
import { NicmatrixError } from '../../codec/errors.js';
import { createRng } from '../../codec/random.js';
import { connectionSegments, judgeRetransmits, retransEvidence, sumSegments } from '../retransmits.js';
import type { CheckContext, CheckOutcome } from '../types.js';
import { LARGE_SIZE, largeCases, largeFile, planLargeSize, type SendCase, smallCases, smallFiles, WIRE_CASE } from './cases.js';
import { streamFaults, transferFaults } from './judge.js';
import { clampRange, type FileLayout } from '../../codec/zc/pattern.js';
import type { TcpStats } from '../../sys/tcp.js';
import {
  addresses,
  connectionFaults,
  counting,
  deliveryOf,
  portSource,
  startReceiver,
  withFiles,
  withPeerCapture,
  withReceivers,
} from './session.js';
import { judgeStreamFrames, type StreamFrameFindings } from './wire-judge.js';

/** How long the peer waits for the end of a stream once the DUT's sendfile returned. */
const END_WAIT_MS = 60_000;
/** Longest one zc.sendfile action may take (the large case on a slow link). */
const SEND_TIMEOUT_MS = 150_000;

export interface CaseResult {
  case: string;
  family: IpFamily;
  /** Bytes sendfile() handed to TCP, and bytes the peer's socket received. */
  sent: number;
  bytes: number;
  /** TCP_INFO of the connection as it closed. */
  tcp?: TcpStats;
  /** Data segments the DUT sent and the peer's socket got (every copy), when both ends said. */
  segments?: { sent: number; received: number };
  /** Its retransmissions judged against the bound for its bytes. */
  retransmits?: Record<string, unknown>;
  /** The case's frames as the peer captured them (one case per run). */
  wire?: Omit<StreamFrameFindings, 'faults'> & { dropped: number };
  sha256: string;
  elapsedMs: number;
  throughputBps?: number;
  peakRssBytes?: number;
  rssStartBytes?: number;
  /** The connection stalled or failed: later cases would only wait out the same stall. */
  broken: boolean;
  faults: string[];
}

/** One sendfile over a fresh connection, verified by a streaming receiver on the peer. */
export async function sendCase(
  ctx: CheckContext,
  c: SendCase,
  layout: FileLayout,
  fileId: string,
  port: number,
  family: IpFamily,
  opts: { trackMemory?: boolean; capture?: boolean } = {},
): Promise<CaseResult> {
  const name = family === 6 ? `${c.name} (IPv6)` : c.name;
  const count = clampRange(layout.size, c.offset, c.count);
  const spec = { file: layout, offset: c.offset, count };
  const { src, dst } = addresses(ctx, family);
  const run = async () => {
    const rx = await startReceiver(ctx, family, port, spec, { trackMemory: opts.trackMemory });
    return withReceivers([rx], async () => {
      const sent = await ctx.dut.run(
        'dut',
        'zc.sendfile',
        { fileId, family, src, dst, dport: port, offset: c.offset, count: c.count },
        { timeoutMs: SEND_TIMEOUT_MS },
      );
      const wait = sent.failure ? 2000 : END_WAIT_MS;
      return { sent, got: await rx.stop(wait, sent.tcp?.dataSegsOut), wait };
    });
  };
  const captured = opts.capture ? await withPeerCapture(ctx, run) : { value: await run(), frames: undefined, dropped: 0 };
  const { sent, got, wait } = captured.value;
  const exact = got.exact!;
  const faults: string[] = [];
  if (sent.failure) faults.push(`${name}: the DUT's sendfile failed: ${sent.failure}`);
  else if (sent.sent !== count) faults.push(`${name}: sendfile() sent ${sent.sent} bytes, expected ${count}`);
  const lost = connectionFaults(name, got, wait);
  faults.push(...lost, ...streamFaults(name, exact));
  let wire: CaseResult['wire'];
  if (captured.frames) {
    const { faults: wf, ...w } = judgeStreamFrames(captured.frames, { src, dst, dport: port }, spec);
    faults.push(...wf.map((f) => `${name} on the wire: ${f}`));
    wire = { ...w, dropped: captured.dropped };
  }
  return {
    case: name,
    family,
    sent: sent.sent,
    tcp: sent.tcp,
    segments: connectionSegments(sent.tcp, got.tcp),
    ...(wire ? { wire } : {}),
    bytes: exact.bytes,
    sha256: exact.sha256,
    elapsedMs: Math.round(sent.elapsedNs / 1e6),
    throughputBps: got.throughputBps,
    peakRssBytes: got.peakRssBytes,
    rssStartBytes: got.rssStartBytes,
    broken: sent.failure !== undefined || lost.length > 0,
    faults,
  };
}

/** The file a case names: a name the case list and the file list disagree on is our bug. */
function named<V>(byName: Readonly<Record<string, V>>, name: string): V {
  const v = byName[name];
  if (v === undefined) throw new NicmatrixError('INTERNAL', `zc/sendfile: expected a file named ${JSON.stringify(name)}, found none`);
  return v;
}

export async function runSendfile(ctx: CheckContext): Promise<CheckOutcome> {
  const port = portSource(createRng(ctx.seed));
  const probe = await ctx.dut.run('dut', 'zc.probe', {});
  const files = smallFiles(ctx.seed);
  let sparseAllocated = 0;
  let large: { size: number; reason?: string } = { size: 0 };
  const delivery = await deliveryOf(ctx);
  const counted = await counting(ctx, async () => {
    const out: CaseResult[] = [];
    const broken = () => out.some((r) => r.broken);
    await withFiles(ctx, files, async (ids) => {
      sparseAllocated = named(ids, 'sparse').allocatedBytes;
      for (const c of smallCases())
        if (!broken())
          out.push(await sendCase(ctx, c, named(files, c.file), named(ids, c.file).id, port(), 4, { capture: c.name === WIRE_CASE }));
      const [again] = smallCases();
      if (!broken() && again) out.push(await sendCase(ctx, again, named(files, '1MiB'), named(ids, '1MiB').id, port(), 6));
    });
    // Not broken: the first small case ran and did not break.
    if (broken()) return out;
    const first = out[0]!;
    large = planLargeSize(first.elapsedMs > 0 ? (first.bytes * 1000) / first.elapsedMs : undefined, probe.memAvailableBytes);
    const layout = largeFile(ctx.seed, large.size);
    await withFiles(ctx, { large: layout }, async (ids) => {
      for (const c of largeCases(large.size))
        if (!broken()) out.push(await sendCase(ctx, c, layout, ids.large.id, port(), 4, { trackMemory: c.offset === 0 }));
    });
    return out;
  });
  const { value: results, peer } = counted;
  if (large.reason) ctx.log(`zc/sendfile: large file reduced to ${large.size} bytes: ${large.reason}`);
  const big = results.find((r) => r.case === `whole large`);
  const planned = smallCases().length + 1 + largeCases(LARGE_SIZE).length;
  const skipped = results.some((r) => r.broken) ? [`${planned - results.length} later case(s) not run after the connection broke`] : [];
  const sentTotal = results.reduce((a, r) => a + r.sent, 0);
  const transfer = transferFaults(
    'sendfile cases together',
    sentTotal,
    counted,
    delivery.localDelivery !== undefined,
    sumSegments(results),
  );
  // Per connection too, from its own TCP_INFO: a loss concentrated in one case is not diluted by the others.
  for (const r of results) {
    if (!r.tcp) continue;
    const j = judgeRetransmits({
      bytes: r.sent,
      retransSegs: r.tcp.totalRetrans,
      spuriousSegs: r.tcp.dsackDups,
      receiverDropSegs: transfer.receiverDropSegs,
      segments: r.segments,
      what: r.case,
    });
    r.retransmits = retransEvidence(j);
    if (!j.ok) r.faults.push(j.message);
  }
  const faults = [...results.flatMap((r) => r.faults), ...skipped, ...transfer.faults];
  const evidence = {
    cases: results.map(({ faults: f, broken: _b, tcp: _t, segments: _s, ...r }) => ({
      ...r,
      sha256: r.sha256.slice(0, 16),
      ok: f.length === 0,
    })),
    throughputBps: big?.throughputBps,
    largeSize: large.size,
    ...(large.reason ? { largeReduced: { wanted: LARGE_SIZE, reason: large.reason } } : {}),
    peerPeakRssBytes: big?.peakRssBytes,
    peerRssStartBytes: big?.rssStartBytes,
    sparse: { size: named(files, 'sparse').size, allocatedBytes: sparseAllocated },
    tmpdir: probe.tmpdir,
    peerCsumErrors: peer.TcpInCsumErrors ?? 0,
    retransmits: retransEvidence(transfer.retransmits),
    ...(faults.length > 0 ? { faults } : {}),
  };
  const total = results.reduce((a, r) => a + r.bytes, 0);
  if (faults.length > 0) {
    const more = faults.length > 3 ? `; and ${faults.length - 3} more` : '';
    return {
      status: 'fail',
      message: `${faults.length} fault(s) over ${results.length} sendfile cases: ${faults.slice(0, 3).join('; ')}${more}`,
      evidence,
    };
  }
  const speed = big?.throughputBps ? `, ${(big.throughputBps / 1e6).toFixed(0)} MB/s on the ${large.size / (1 << 20)} MiB file` : '';
  return {
    status: 'pass',
    message: `${results.length} sendfile cases byte-exact at the peer (${total} of ${sentTotal} bytes sent${speed}; sizes 0 to ${large.size}, offsets, partial ranges, sparse); ${transfer.retransmits.deviceLost} TCP segment(s) lost (${transfer.retransmits.found} retransmitted), bound ${transfer.retransmits.bound}`,
    evidence,
  };
}
