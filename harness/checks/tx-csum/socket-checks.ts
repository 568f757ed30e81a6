/** TX checksum checks through ordinary kernel sockets: the stack hands the driver CHECKSUM_PARTIAL when offload is on. */
import { createHash } from 'node:crypto';
import type { IpFamily } from '../../codec/index.js';
import { describeError } from '../../codec/errors.js';
import { createRng } from '../../codec/random.js';
import type { CheckContext, CheckOutcome } from '../types.js';
import { accountDatagrams, accountStream, type FieldRule, judgeChecksums } from './judge.js';
import { accountUdpRound } from './loss.js';
import { judgeRetransmits, retransEvidence, retransFromDelta } from '../retransmits.js';
import { txOutcome } from './outcome.js';
import { lengthSummary, maxUdpPayload, PACKETS_PER_CASE, payloadLengths, randomPayloads, zeroSumPayload } from '../payloads.js';
import { tcpRound, udpRound } from './rounds.js';

export interface UdpCase {
  family: IpFamily;
  rule?: FieldRule;
  noChecksum?: boolean;
  ipOptions?: Buffer;
  ipv6DstOpts?: Buffer;
  /** Craft payloads whose checksum folds to zero. */
  zeroSum?: boolean;
  count?: number;
}

/** Runs one UDP case and judges it; the pcap of offending frames goes to the evidence. */
export async function runUdpCase(ctx: CheckContext, what: string, c: UdpCase): Promise<CheckOutcome> {
  const rng = createRng(ctx.seed);
  const sport = rng.int(30000, 39999);
  const dport = rng.int(20000, 29999);
  const extra = (c.ipOptions?.length ?? 0) + (c.ipv6DstOpts?.length ?? 0);
  const max = maxUdpPayload(c.family, ctx.link.dut.mtu, extra);
  const lengths = payloadLengths(rng, c.count ?? PACKETS_PER_CASE, c.zeroSum ? 2 : 0, max);
  const { src, dst } =
    c.family === 4 ? { src: ctx.link.dut.ipv4, dst: ctx.link.peer.ipv4 } : { src: ctx.link.dut.ipv6, dst: ctx.link.peer.ipv6 };
  const payloads = c.zeroSum
    ? lengths.map((n) => zeroSumPayload(rng, n, { family: c.family, src, dst, sport, dport }))
    : randomPayloads(rng, lengths);
  const round = await udpRound(ctx, {
    family: c.family,
    payloads,
    sport,
    dport,
    noChecksum: c.noChecksum,
    ipOptions: c.ipOptions,
    ipv6DstOpts: c.ipv6DstOpts,
  });
  const { frames, raw } = round;
  const tally = judgeChecksums(frames, c.rule ?? 'correct');
  const acct = accountDatagrams(payloads, frames);
  const loss = accountUdpRound(round, payloads, { addr: src, port: sport });
  const accounting = [...loss.device];
  const { outcome, offending } = txOutcome({
    what,
    sent: payloads.length,
    tally,
    accounting,
    setupLoss: loss.setup,
    extraFaults: acct.unexpected,
    frames,
    evidence: {
      lengths: lengthSummary(lengths),
      capturedFrames: raw.length,
      peerSocket: { received: round.delivered.length },
    },
  });
  if (outcome.status === 'pass') outcome.message += `; the peer's socket received all ${payloads.length} byte for byte`;
  if (offending.length > 0)
    outcome.evidence.pcap = await ctx.writePcap(
      'offending',
      offending.map((f) => f.raw),
    );
  return outcome;
}

/** Runs one TCP case: each payload its own segment; every segment's checksum and the byte stream are judged. */
export async function runTcpCase(ctx: CheckContext, what: string, family: IpFamily): Promise<CheckOutcome> {
  const rng = createRng(ctx.seed);
  const dport = rng.int(20000, 29999);
  const sport = rng.int(30000, 39999);
  // Room for IP, TCP and its timestamp option, so one payload is one segment.
  const max = Math.min(ctx.link.dut.mtu, 9000) - (family === 4 ? 20 : 40) - 20 - 12;
  const lengths = payloadLengths(rng, PACKETS_PER_CASE, 1, max);
  const payloads = randomPayloads(rng, lengths);
  const stream = Buffer.concat(payloads);
  const { frames, raw, received, sendError, captureDropped, dutCounters, segments } = await tcpRound(ctx, {
    family,
    payloads,
    sport,
    dport,
  });
  const tally = judgeChecksums(frames, 'correct');
  // A failed connection is the device's fault only when its frames were wrong on the wire.
  if (sendError !== undefined && tally.faults.length === 0) throw sendError;
  const acct = accountStream(stream, frames);
  const accounting: string[] = sendError === undefined ? [] : [`the connection failed: ${describeError(sendError)}`];
  const setupLoss: string[] = [];
  const sha = createHash('sha256').update(stream).digest('hex');
  const socketExact = received.bytes === stream.length && received.sha256 === sha;
  // A hole in the captured stream while the peer's socket got every byte is the capture's loss, not the device's.
  if (!acct.ok && socketExact && captureDropped > 0)
    setupLoss.push(`the peer's capture dropped ${captureDropped} frame(s) in its own buffer: ${acct.reason ?? ''}`);
  else if (!acct.ok) accounting.push(`byte stream on the wire: ${acct.reason ?? ''}`);
  const retrans = judgeRetransmits({ bytes: stream.length, ...retransFromDelta(dutCounters), what: 'the DUT', segments });
  if (!retrans.ok) accounting.push(retrans.message);
  if (!socketExact) {
    accounting.push(
      `the peer's socket received ${received.bytes} bytes (sha256 ${received.sha256.slice(0, 12)}), ${stream.length} were written (sha256 ${sha.slice(0, 12)})`,
    );
  }
  const { outcome, offending } = txOutcome({
    what,
    sent: payloads.length,
    tally,
    accounting,
    setupLoss,
    frames,
    evidence: {
      lengths: lengthSummary(lengths),
      segmentsWithData: acct.segments,
      retransmitted: acct.retransmitted,
      retransmits: retransEvidence(retrans),
      capturedFrames: raw.length,
    },
  });
  if (offending.length > 0)
    outcome.evidence.pcap = await ctx.writePcap(
      'offending',
      offending.map((f) => f.raw),
    );
  return outcome;
}
