/**
 * `zc/sendfile-mutate` and `zc/msg-zerocopy-mutate`: the DUT's user rewrites
 * data while it is in flight, beside an untouched neighbour flow. Every
 * received byte must be a generation the user wrote there (never POISON,
 * written after a completion), untouched bytes and the neighbour exact, no
 * checksum errors at the peer, no retransmission storm, no stall.
 */
import type { MutateReport } from '../../agent/actions/zc-mutate.js';
import { createRng } from '../../codec/random.js';
import type { CheckContext, CheckOutcome } from '../types.js';
import { type CompletionTally, tallyCompletions } from '../../codec/zc/completions.js';
import { connectionSegments, retransEvidence, sumSegments } from '../retransmits.js';
import { judgeMutation, streamFaults, transferFaults } from './judge.js';
import type { FileLayout } from '../../codec/zc/pattern.js';
import { addresses, connectionFaults, counting, deliveryOf, portSource, startReceiver, withFiles, withReceivers } from './session.js';
import { decodeMasks } from '../../codec/zc/verify.js';

export const BLOCK = 1024;
const MiB = 1 << 20;
const END_WAIT_MS = 60_000;

interface Plan {
  main: FileLayout;
  neighbour: FileLayout;
  rngSeed: number;
  mainPort: number;
  neighbourPort: number;
}

function plan(ctx: CheckContext, mainSize: number, neighbourSize: number): Plan {
  const rng = createRng(ctx.seed);
  const port = portSource(rng);
  return {
    main: { seed: rng.u32(), size: mainSize },
    neighbour: { seed: rng.u32(), size: neighbourSize },
    rngSeed: rng.u32(),
    mainPort: port(),
    neighbourPort: port(),
  };
}

/** Starts both receivers, runs the DUT's mutation action, stops the receivers, all under nstat. */
async function mutationRound(ctx: CheckContext, p: Plan, send: () => Promise<MutateReport>) {
  const main = await startReceiver(ctx, 4, p.mainPort, { file: p.main, offset: 0, count: p.main.size }, { blockSize: BLOCK });
  const neighbour = await startReceiver(ctx, 4, p.neighbourPort, { file: p.neighbour, offset: 0, count: p.neighbour.size });
  return withReceivers([main, neighbour], () =>
    counting(ctx, async () => {
      const r = await send();
      const wait = r.failure || r.neighbourFailure ? 2000 : END_WAIT_MS;
      return {
        r,
        main: await main.stop(wait, r.tcp?.dataSegsOut),
        neighbour: await neighbour.stop(wait, r.neighbourTcp?.dataSegsOut),
        wait,
      };
    }),
  );
}

function judgeRound(
  what: string,
  p: Plan,
  round: Awaited<ReturnType<typeof mutationRound>>,
  localDelivery: boolean,
  tally?: CompletionTally,
): CheckOutcome {
  const { r, main, neighbour, wait } = round.value;
  const got = main.attribution!;
  const attribution = { ...got, masks: decodeMasks(got.masks) };
  const poisoned = new Uint8Array(Buffer.from(r.poisoned, 'base64'));
  const m = judgeMutation(what, decodeMasks(r.written), poisoned, attribution);
  const segments = sumSegments([
    { segments: connectionSegments(r.tcp, main.tcp) },
    { segments: connectionSegments(r.neighbourTcp, neighbour.tcp) },
  ]);
  const transfer = transferFaults(what, r.sent + r.neighbourSent, round, localDelivery, segments);
  const faults = [
    ...(r.failure ? [`${what}: the DUT's send failed: ${r.failure}`] : []),
    ...(r.neighbourFailure ? [`neighbour flow: the DUT's send failed: ${r.neighbourFailure}`] : []),
    ...connectionFaults(what, main, wait),
    ...m.faults,
    ...connectionFaults('neighbour flow', neighbour, wait),
    ...streamFaults('untouched neighbour flow', neighbour.exact!),
    ...transfer.faults,
    ...(tally ? tally.faults.map((f) => `${what}: ${f}`) : []),
  ];
  const evidence = {
    size: p.main.size,
    blockSize: BLOCK,
    writes: r.writes,
    sendCalls: r.calls,
    blocks: {
      total: attribution.masks.length,
      written: m.blocksWritten,
      changedOnWire: m.blocksChangedOnWire,
      mixed: m.blocksMixed,
      poisoned: m.blocksPoisoned,
    },
    foreignBytes: got.foreign,
    firstForeign: got.firstForeign,
    neighbour: { size: p.neighbour.size, bytes: neighbour.exact!.bytes, sha256: neighbour.exact!.sha256.slice(0, 16) },
    ...(tally ? { zerocopy: tally.zerocopy, completions: { ...tally, faults: undefined } } : {}),
    peerCsumErrors: round.peer.TcpInCsumErrors ?? 0,
    sent: { main: r.sent, neighbour: r.neighbourSent },
    retransmits: retransEvidence(transfer.retransmits),
    ...(faults.length > 0 ? { faults } : {}),
  };
  if (faults.length > 0)
    return {
      status: 'fail',
      message: faults.slice(0, 3).join('; ') + (faults.length > 3 ? `; and ${faults.length - 3} more` : ''),
      evidence,
    };
  const seen =
    m.blocksChangedOnWire === 0
      ? 'none reached the peer (it received what was there first)'
      : `${m.blocksChangedOnWire} arrived as a later generation (${m.blocksMixed} mixed)`;
  return {
    status: 'pass',
    message: `${what}: ${m.blocksWritten} of ${attribution.masks.length} blocks rewritten in flight, ${seen}; every byte attributable; neighbour flow exact; no checksum errors, ${transfer.retransmits.deviceLost} TCP segment(s) lost (${transfer.retransmits.found} retransmitted), bound ${transfer.retransmits.bound}`,
    evidence,
  };
}

export async function runSendfileMutate(ctx: CheckContext): Promise<CheckOutcome> {
  const p = plan(ctx, 8 * MiB, 4 * MiB);
  const { src, dst } = addresses(ctx, 4);
  return withFiles(ctx, { main: p.main, neighbour: p.neighbour }, async (ids) => {
    const round = await mutationRound(ctx, p, () =>
      ctx.dut.run(
        'dut',
        'zc.sendfileMutate',
        {
          family: 4,
          src,
          dst,
          dport: p.mainPort,
          neighbourDport: p.neighbourPort,
          seed: p.main.seed,
          size: p.main.size,
          blockSize: BLOCK,
          rngSeed: p.rngSeed,
          fileId: ids.main.id,
          neighbourFileId: ids.neighbour.id,
        },
        { timeoutMs: 150_000 },
      ),
    );
    return judgeRound('sendfile of 8 MiB with pwrite() into its page cache', p, round, (await deliveryOf(ctx)).localDelivery !== undefined);
  });
}

export async function runZerocopyMutate(ctx: CheckContext): Promise<CheckOutcome> {
  const p = plan(ctx, 4 * MiB, MiB);
  const { src, dst } = addresses(ctx, 4);
  const round = await mutationRound(ctx, p, () =>
    ctx.dut.run(
      'dut',
      'zc.zerocopyMutate',
      {
        family: 4,
        src,
        dst,
        dport: p.mainPort,
        neighbourDport: p.neighbourPort,
        seed: p.main.seed,
        size: p.main.size,
        blockSize: BLOCK,
        rngSeed: p.rngSeed,
        chunk: 65536,
        neighbourSeed: p.neighbour.seed,
        neighbourSize: p.neighbour.size,
      },
      { timeoutMs: 150_000 },
    ),
  );
  const tally = tallyCompletions(round.value.r.calls, round.value.r.completions ?? []);
  const local = (await deliveryOf(ctx)).localDelivery !== undefined;
  return judgeRound('MSG_ZEROCOPY of 4 MiB with writes before and after completion', p, round, local, tally);
}
