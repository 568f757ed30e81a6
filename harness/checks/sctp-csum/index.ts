/**
 * The `sctp-csum/*` family: SCTP's CRC32c through the kernel's SCTP on the DUT.
 * The peer sends INITs to a DUT listener; the DUT's INIT ACKs are judged on
 * the wire (`*-tx`, tx-checksum-sctp on and off), and INITs with a wrong
 * CRC32c must reach the DUT, stay unanswered and be counted (`*-rx`).
 */
import type { IpFamily } from '../../codec/index.js';
import { combineStatuses } from '../../../matrix/verdict.js';
import { createRng } from '../../codec/random.js';
import { NicmatrixError } from '../../codec/errors.js';
import { captureWhile } from '../capture-round.js';
import { injectFrames, injectionAccounting } from '../inject.js';
import { RX_VARIANTS } from '../rx-csum/index.js';
import { nstatSince } from '../context.js';
import type { Check, CheckContext, CheckOutcome, Family, Variant } from '../types.js';
import { decodeCapture, frameHex } from '../wire.js';
import { judgeSctpRx, judgeSctpTx } from './judge.js';
import { planInits, type SctpKind } from './plan.js';

export const SCTP_TX_VARIANTS: readonly Variant[] = [
  { name: 'offload-on', features: { 'tx-checksum-sctp': true } },
  { name: 'offload-off', features: { 'tx-checksum-sctp': false } },
];

const PER_KIND = 30;
const MAX_EVIDENCE_FRAMES = 8;

async function runSctp(ctx: CheckContext, family: IpFamily, dir: 'tx' | 'rx'): Promise<CheckOutcome> {
  const what = `SCTP over IPv${family}${dir === 'rx' ? ', receive' : ''}`;
  const rng = createRng(ctx.seed);
  const { dut, peer } = ctx.link;
  const dport = rng.int(20000, 29999);
  const addr = family === 4 ? dut.ipv4 : dut.ipv6;
  const l = await ctx.dut.run('dut', 'sctp.listen', { family, addr, port: dport });
  if ('missingModule' in l)
    return {
      status: 'skip',
      message: `${what}: the DUT's kernel has no SCTP (kernel module ${l.missingModule} missing)`,
      evidence: { missingModule: l.missingModule },
    };
  try {
    const kinds: SctpKind[] = [
      ...new Array<SctpKind>(PER_KIND * (dir === 'tx' ? 2 : 1)).fill('good'),
      ...(dir === 'rx'
        ? [...new Array<SctpKind>(PER_KIND / 2).fill('bad-crc'), ...new Array<SctpKind>(PER_KIND / 2).fill('zero-crc')]
        : []),
    ];
    const ends = { family, srcMac: peer.mac, dstMac: dut.mac, src: family === 4 ? peer.ipv4 : peer.ipv6, dst: addr, dport };
    const planned = planInits(rng, ends, rng.shuffle(kinds), Math.min(dut.mtu, peer.mtu));
    const good = planned.filter((p) => p.expect === 'answer').length;
    const counters = await nstatSince(ctx, 'dut');
    let inj: Awaited<ReturnType<typeof injectFrames>> | undefined;
    const cap = await captureWhile(
      ctx,
      'peer',
      good,
      async () => {
        // Every INIT must reach the DUT: a corrupted one that did not proves nothing by its silence.
        inj = await injectFrames(
          ctx,
          planned.map((p) => p.frame),
        );
      },
      { vnetHdr: true },
    );
    if (cap.sendError) throw cap.sendError;
    if (!inj) throw new NicmatrixError('AGENT', `${what}: the injection did not run`);
    const delta = await counters();
    const src = addr;
    const dst = family === 4 ? peer.ipv4 : peer.ipv6;
    const fromDut = decodeCapture(cap.frames).filter(
      (f) => f.parsed.ip?.src === src && f.parsed.ip.dst === dst && f.parsed.ip.proto === 132,
    );
    const tx = judgeSctpTx(fromDut);
    const rx = judgeSctpRx({
      planned,
      dutIn: inj.dutIn,
      answered: tx.answered,
      counters: delta,
      arrivals: { traces: inj.traces, dutLoss: inj.dutLoss, captureDropped: inj.captureDropped, peerLoss: inj.peerLoss },
    });
    const problems: string[] = [];
    if (tx.faults.length > 0)
      problems.push(`${tx.faults.length} of ${tx.frames} SCTP packets from the DUT wrong (first: ${tx.faults[0]!.reason})`);
    problems.push(...rx.faults.map((f) => `${f.count} ${f.detail}`));
    const evidence: Record<string, unknown> = {
      inits: planned.length,
      goodInits: good,
      answered: rx.answered,
      reached: rx.reached,
      packetsFromDut: tx.frames,
      completeCrc: tx.complete,
      partialCrc: tx.partial,
      sizesFromDut: { min: Math.min(...fromDut.map((f) => f.data.length)), max: Math.max(...fromDut.map((f) => f.data.length)) },
      ...(rx.counted ? { counted: { SctpChecksumErrors: rx.counted } } : {}),
      accounting: injectionAccounting(inj, rx.answered),
    };
    if (tx.faults.length > 0) {
      const byIndex = new Map(fromDut.map((f) => [f.index, f]));
      const bad = tx.faults.slice(0, MAX_EVIDENCE_FRAMES);
      evidence.frames = bad.map((x) => ({ hex: frameHex(byIndex.get(x.index)!.data), reason: x.reason }));
      evidence.pcap = await ctx.writePcap(
        'offending',
        tx.faults.map((x) => byIndex.get(x.index)!.raw),
      );
    }
    if (problems.length > 0) {
      // The harness's own losses are errors; any fault of the device outranks them (matrix/verdict.ts).
      const status = combineStatuses([...(tx.faults.length > 0 ? ['fail' as const] : []), ...rx.faults.map((f) => f.status ?? 'fail')]);
      return { status, message: `${what}: ${problems.join('; ')}`, evidence };
    }
    const how =
      tx.partial > 0
        ? `${tx.complete} with a right CRC32c, ${tx.partial} CHECKSUM_PARTIAL (the field left to the device)`
        : `all ${tx.complete} with a right CRC32c`;
    const drops = rx.badReached > 0 ? `, ${rx.badReached} corrupted INITs reached the DUT, went unanswered and were counted` : '';
    return {
      status: 'pass',
      message: `${what}: ${rx.answered} of ${good} INITs answered, ${tx.frames} SCTP packets from the DUT, ${how}${drops}`,
      evidence,
    };
  } finally {
    await ctx.dut.run('dut', 'sctp.close', { id: l.id }).catch(() => undefined);
  }
}

export const sctpCsumFamily: Family = {
  name: 'sctp-csum',
  title: 'SCTP CRC32c',
  definition:
    "SCTP's CRC32c through the kernel's SCTP on the DUT: INIT ACKs it sends judged on the wire, INITs with a wrong CRC32c injected at it; ethtool features tx-checksum-sctp, rx-checksumming.",
};

function check(family: IpFamily, dir: 'tx' | 'rx'): Check {
  return {
    id: `sctp-csum/ipv${family}-${dir}`,
    family: 'sctp-csum',
    definition:
      dir === 'tx'
        ? `The peer sends SCTP INITs over IPv${family} to a listener on the DUT, with tx-checksum-sctp on and off, and captures the INIT ACKs.`
        : `The peer sends SCTP INITs over IPv${family} to the DUT, some with a wrong CRC32c.`,
    proves:
      dir === 'tx'
        ? 'Every INIT ACK the DUT sent carried a correct CRC32c.'
        : 'INITs with a wrong CRC32c reached the DUT, stayed unanswered and were counted; good ones were answered.',
    title:
      dir === 'tx'
        ? `SCTP over IPv${family}: every CRC32c the DUT sends is right`
        : `SCTP over IPv${family}: INITs with a wrong CRC32c dropped and counted, good ones answered`,
    variants: () => [...(dir === 'tx' ? SCTP_TX_VARIANTS : RX_VARIANTS)],
    run: (ctx) => runSctp(ctx, family, dir),
  };
}

export const sctpCsumChecks: readonly Check[] = [check(4, 'tx'), check(6, 'tx'), check(4, 'rx'), check(6, 'rx')];
