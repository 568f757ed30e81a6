/**
 * zc benchmark on one veth pair: the harness's sendfile path (zc.sendfile on
 * the DUT, the streaming verifier on the peer) beside `iperf3 --zerocopy`
 * (sendfile too) over the same pair in the same run, as a ratio; and the
 * peer's peak RSS while it verifies a 64 MiB file.
 */
import { execa } from 'execa';
import type { LinkInfo } from '../../drivers/types.js';
import { VethDut } from '../../drivers/veth.js';
import type { StreamReport } from '../../harness/agent/actions/zc-recv.js';
import { largeFile, LARGE_SIZE } from '../../harness/checks/zc/cases.js';
import { NicmatrixError } from '../../harness/codec/errors.js';
import { run } from '../../harness/sys/exec.js';

/** Bytes per measured transfer: the 64 MiB file sent this many times over one connection. */
const REPEAT = 16;
const ROUNDS = 5;
const PORT = 5201;

async function harnessRound(
  dut: VethDut,
  link: LinkInfo,
  fileId: string,
  port: number,
  repeat: number,
  trackMemory: boolean,
): Promise<StreamReport> {
  const layout = largeFile(1, LARGE_SIZE);
  const { id } = await dut.run('peer', 'zc.recvStart', {
    family: 4,
    addr: link.peer.ipv4,
    port,
    spec: { file: layout, offset: 0, count: LARGE_SIZE, repeat },
    trackMemory,
  });
  const sent = await dut.run(
    'dut',
    'zc.sendfile',
    { fileId, family: 4, src: link.dut.ipv4, dst: link.peer.ipv4, dport: port, offset: 0, count: LARGE_SIZE, repeat },
    { timeoutMs: 120_000 },
  );
  const got = await dut.run('peer', 'zc.recvStop', { id, timeoutMs: 60_000 });
  const exact = got.exact!;
  if (sent.failure || exact.mismatch || exact.bytes !== LARGE_SIZE * repeat) {
    throw new NicmatrixError(
      'INTERNAL',
      `harness sendfile round went wrong: sent ${sent.sent}${sent.failure ? ` (${sent.failure})` : ''}, received ${exact.bytes}, mismatch ${JSON.stringify(exact.mismatch)}`,
    );
  }
  return got;
}

async function iperfRound(dut: VethDut, link: LinkInfo, bytes: number): Promise<number> {
  const n = dut.names;
  const server = execa('ip', ['netns', 'exec', n.peerNetns, 'iperf3', '-s', '-1', '-p', String(PORT)], { reject: false });
  try {
    // The server is ready once it listens; the client retries its connection meanwhile.
    for (let i = 0; i < 100; i++) {
      const ss = await run('ip', ['netns', 'exec', n.peerNetns, 'ss', '-Hltn', `sport = :${PORT}`], { reject: false });
      if (ss.stdout.includes(String(PORT))) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const c = await run('ip', [
      'netns',
      'exec',
      n.dutNetns,
      'iperf3',
      '-c',
      link.peer.ipv4,
      '-p',
      String(PORT),
      '-Z',
      '-n',
      String(bytes),
      '--json',
    ]);
    const j = JSON.parse(c.stdout) as { end: { sum_received: { bits_per_second: number } } };
    return j.end.sum_received.bits_per_second / 8;
  } finally {
    server.kill();
    await server;
  }
}

function median(xs: number[]): number {
  const m = [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  if (m === undefined) throw new NicmatrixError('INTERNAL', 'median: expected one measurement at least, found none');
  return m;
}

export async function benchZc(): Promise<Record<string, unknown>> {
  const dut = new VethDut('veth');
  const ac = new AbortController();
  try {
    const link = await dut.start(ac.signal);
    const { id } = await dut.run('dut', 'zc.fileCreate', { layout: largeFile(1, LARGE_SIZE) }, { timeoutMs: 120_000 });
    const mem = await harnessRound(dut, link, id, 40_000, 1, true);
    const harness: number[] = [];
    const iperf: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      harness.push((await harnessRound(dut, link, id, 40_001 + r, REPEAT, false)).throughputBps ?? 0);
      iperf.push(await iperfRound(dut, link, LARGE_SIZE * REPEAT));
    }
    const h = median(harness);
    const i = median(iperf);
    return {
      bytesPerRound: LARGE_SIZE * REPEAT,
      harnessSendfileBps: Math.round(h),
      iperf3ZerocopyBps: Math.round(i),
      ratio: Number((h / i).toFixed(3)),
      target: 0.8,
      rounds: { harness: harness.map(Math.round), iperf3: iperf.map(Math.round) },
      peerVerify64MiB: {
        peakRssBytes: mem.peakRssBytes,
        rssStartBytes: mem.rssStartBytes,
        growthBytes: (mem.peakRssBytes ?? 0) - (mem.rssStartBytes ?? 0),
        throughputBps: mem.throughputBps,
      },
    };
  } finally {
    await dut.stop();
  }
}
