/** The `tx-frame/*` family: what a device does to a frame beyond its checksums (its padding). */
import { buildUdpFrame, ETH_ZLEN } from '../../codec/index.js';
import { createRng } from '../../codec/random.js';
import { captureWhile } from '../capture-round.js';
import { TX_VARIANTS } from '../tx-csum/index.js';
import { accountDatagrams } from '../tx-csum/judge.js';
import { accountUdpRound, attributeLoss } from '../tx-csum/loss.js';
import { udpRound } from '../tx-csum/rounds.js';
import type { Check, CheckContext, CheckOutcome, Family } from '../types.js';
import { decodeCapture, flowFilter, frameHex } from '../wire.js';
import { judgePadding, type PaddingTally } from './judge.js';

/** IPv4 UDP payloads of 0–17 bytes: IP packets of 28–45 bytes, every one short of the minimum frame. */
const SHORT_PAYLOADS = 18;

async function socketShortFrames(ctx: CheckContext, sport: number, dport: number) {
  const rng = createRng(ctx.seed);
  const payloads = Array.from({ length: SHORT_PAYLOADS }, (_, n) => rng.bytes(n));
  const round = await udpRound(ctx, { family: 4, payloads, sport, dport });
  const wire = accountDatagrams(payloads, round.frames);
  const loss = accountUdpRound(round, payloads, { addr: ctx.link.dut.ipv4, port: sport });
  if (wire.unexpected.length > 0)
    loss.device.push(`${wire.unexpected.length} datagram(s) arrived with a payload that matches nothing sent`);
  return { frames: round.frames, loss };
}

/** Hand-made short frames through AF_PACKET: some left short for the driver to pad, some padded with zeros already. */
async function rawShortFrames(ctx: CheckContext, sport: number, dport: number) {
  const rng = createRng((ctx.seed ^ 0x2545f491) >>> 0);
  const { dut, peer } = ctx.link;
  const frames: Buffer[] = [];
  for (let n = 0; n < SHORT_PAYLOADS; n++) {
    const f = buildUdpFrame({
      srcMac: dut.mac,
      dstMac: peer.mac,
      family: 4,
      src: dut.ipv4,
      dst: peer.ipv4,
      sport,
      dport,
      payload: rng.bytes(n),
    });
    frames.push(f, Buffer.concat([f, Buffer.alloc(ETH_ZLEN - f.length)]));
  }
  const { frames: raw, dropped } = await captureWhile(ctx, 'peer', frames.length, () =>
    ctx.dut.run('dut', 'packet.send', { ifname: dut.ifname, frames: frames.map((f) => f.toString('base64')) }),
  );
  const wire = decodeCapture(raw).filter(flowFilter({ src: dut.ipv4, dst: peer.ipv4, proto: 17, sport, dport }));
  const missing = Math.max(0, frames.length - wire.length);
  const loss = attributeLoss({
    sent: frames.length,
    missingOnWire: missing,
    missingAtSocket: 0,
    captureDropped: dropped,
    peerNstat: {},
    peerDriver: {},
  });
  return { frames: wire, loss };
}

function merge(a: PaddingTally, b: PaddingTally): PaddingTally {
  return { short: a.short + b.short, padded: a.padded + b.padded, unpadded: a.unpadded + b.unpadded, faults: [...a.faults, ...b.faults] };
}

async function runPadding(ctx: CheckContext): Promise<CheckOutcome> {
  const rng = createRng(ctx.seed);
  const sport = rng.int(30000, 39999);
  const dport = rng.int(20000, 29999);
  const viaSocket = await socketShortFrames(ctx, sport, dport);
  const viaPacket = await rawShortFrames(ctx, sport + 1, dport + 1);
  const frames = [...viaSocket.frames, ...viaPacket.frames];
  const tally = merge(judgePadding(viaSocket.frames), judgePadding(viaPacket.frames));
  const device = [...viaSocket.loss.device, ...viaPacket.loss.device];
  const setup = [...viaSocket.loss.setup, ...viaPacket.loss.setup];
  const byIndex = (list: typeof frames, i: number) => list.find((f) => f.index === i);
  const evidence = {
    shortFrames: tally.short,
    padded: tally.padded,
    unpadded: tally.unpadded,
    frames: tally.faults.slice(0, 8).map((x) => ({ hex: frameHex(byIndex(frames, x.index)?.data ?? Buffer.alloc(0)), reason: x.reason })),
    ...(setup.length > 0 ? { setupLoss: setup } : {}),
  };
  const problems = [
    ...(tally.faults.length > 0
      ? [`${tally.faults.length} of ${tally.short} short frames faulty (first: ${tally.faults[0]!.reason})`]
      : []),
    ...device,
  ];
  if (problems.length > 0) return { status: 'fail', message: `short frames: ${problems.join('; ')}`, evidence };
  if (setup.length > 0) return { status: 'error', message: `short frames: set-up loss, not judged: ${setup.join('; ')}`, evidence };
  const how =
    tally.padded === 0
      ? 'none was padded (the link carries frames shorter than 60 bytes), so nothing could leak'
      : `${tally.padded} padded with zeros${tally.unpadded > 0 ? `, ${tally.unpadded} left unpadded` : ''}`;
  return { status: 'pass', message: `${tally.short} short frames, ${how}`, evidence: { ...evidence, frames: undefined } };
}

export const txFrameFamily: Family = {
  name: 'tx-frame',
  title: 'TX frame hygiene',
  definition:
    "What the device does to a frame besides its checksums, such as short-frame padding; the driver's own work, no ethtool feature.",
};

export const txFrameChecks: readonly Check[] = [
  {
    id: 'tx-frame/padding',
    family: 'tx-frame',
    title: 'Short frames leave with zero padding (no etherleak)',
    definition: 'Sends IPv4 UDP frames shorter than 60 bytes, from a socket and hand-made through AF_PACKET (some already zero-padded).',
    proves: 'Every frame the device padded was padded with zeros: no memory contents leaked into the padding (etherleak).',
    craftsDutFrames: true,
    variants: () => [...TX_VARIANTS],
    run: runPadding,
  },
];
