/**
 * Agent actions zc.sendfileMutate and zc.zerocopyMutate: the DUT user changes
 * data while it is in flight. After each sendfile() call it pwrite()s new
 * generations into whole blocks of the range just queued (the page-cache
 * pages the socket holds); after each send(MSG_ZEROCOPY) it writes into the
 * blocks just sent, and once their completion arrived, POISON (which must
 * never reach the wire). Meanwhile an untouched neighbour flow runs.
 * Every write goes through a scratch block and one copy, so each byte
 * changes once, from one generation to the next.
 */
import fs from 'node:fs';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import type { Completion } from '../../codec/zc/completions.js';
import { CompletionFrontier, planWrites, WriteLog } from '../../codec/zc/mutation.js';
import { fillFile, fillGeneration, POISON } from '../../codec/zc/pattern.js';
import { encodeMasks } from '../../codec/zc/verify.js';
import { createRng } from '../../codec/random.js';
import * as C from '../../sys/consts.js';
import { EAGAIN, syscallError } from '../../sys/errno.js';
import { NativeBuffer } from '../../sys/memory.js';
import { sendfileAll, sendfileOnce } from '../../sys/sendfile.js';
import { TcpConnection, type TcpStats } from '../../sys/tcp.js';
import { ZerocopySender } from '../../sys/zerocopy.js';
import { defineAction } from '../registry.js';
import { zcFile } from './zc-file.js';
import { COMPLETION_WAIT_MS, deviceFailure, STALL_MS } from './zc-send.js';

interface Flow {
  family: 4 | 6;
  src?: string;
  dst: string;
  dport: number;
  neighbourDport: number;
  /** Pattern seed and size of the mutated data (the file, or the buffer). */
  seed: number;
  size: number;
  blockSize: number;
  /** Seed of the choice of blocks and generations. */
  rngSeed: number;
  stallMs?: number;
}

/** What a mutation run did; masks and flags are per block (base64 u32 / u8). */
export interface MutateReport {
  sent: number;
  calls: number;
  writes: number;
  written: string;
  poisoned: string;
  neighbourSent: number;
  completions?: Completion[];
  failure?: string;
  neighbourFailure?: string;
  /** The sending sockets' TCP_INFO once their FIN was acknowledged (data_segs_out counts every copy put out). */
  tcp?: TcpStats;
  neighbourTcp?: TcpStats;
}

declare module '../protocol.js' {
  interface ActionMap {
    'zc.sendfileMutate': { params: Flow & { fileId: string; neighbourFileId: string }; result: MutateReport };
    'zc.zerocopyMutate': {
      params: Flow & { chunk: number; neighbourSeed: number; neighbourSize: number; completionWaitMs?: number };
      result: MutateReport;
    };
  }
}

const CLOSE_WAIT_MS = 60_000;
const MAX_PER_CALL = 1 << 20;

/** Runs a flow to its end; a device-side failure becomes text, anything else is thrown. */
async function flow(run: () => Promise<void>): Promise<string | undefined> {
  try {
    await run();
    return undefined;
  } catch (e) {
    return deviceFailure(e);
  }
}

function report(log: WriteLog, r: Omit<MutateReport, 'writes' | 'written' | 'poisoned'>): MutateReport {
  return { ...r, writes: log.writes, written: encodeMasks(log.written), poisoned: Buffer.from(log.poisoned).toString('base64') };
}

defineAction('zc.sendfileMutate', async (p, ctx) => {
  const file = zcFile(ctx.resources, p.fileId, 'zc.sendfileMutate');
  const other = zcFile(ctx.resources, p.neighbourFileId, 'zc.sendfileMutate');
  const log = new WriteLog(p.size, p.blockSize);
  const rng = createRng(p.rngSeed);
  const scratch = Buffer.alloc(p.blockSize);
  const fd = fs.openSync(file.path, 'r+');
  const nfd = fs.openSync(other.path, 'r');
  const conn = TcpConnection.open(p.family, { src: p.src });
  const nconn = TcpConnection.open(p.family, { src: p.src });
  const stats: Pick<MutateReport, 'tcp' | 'neighbourTcp'> = {};
  let sent = 0;
  let calls = 0;
  let neighbourSent = 0;
  try {
    const main = flow(async () => {
      await conn.connect(p.dst, p.dport);
      let idleSince = Date.now();
      while (sent < p.size) {
        const step = await sendfileOnce(conn.sock, fd, sent, Math.min(MAX_PER_CALL, p.size - sent));
        if (step === null) {
          if (Date.now() - idleSince >= (p.stallMs ?? STALL_MS))
            throw syscallError(
              'sendfile()',
              EAGAIN,
              `${conn.sock.what} (no room for ${p.stallMs ?? STALL_MS} ms after ${sent} of ${p.size} bytes)`,
            );
          await conn.sock.wait(C.POLLOUT, 50);
          continue;
        }
        if (step.sent === 0) break;
        const from = sent;
        sent = step.offset;
        calls++;
        idleSince = Date.now();
        // The range is queued on the socket, not yet received: rewrite some of its page-cache blocks.
        for (const w of planWrites(rng, log, from, sent)) {
          const [a, b] = log.range(w.block);
          fillGeneration(scratch.subarray(0, b - a), p.seed, a, w.code);
          fs.writeSync(fd, scratch, 0, b - a, a);
        }
      }
      await conn.closeAcked(CLOSE_WAIT_MS, (s) => (stats.tcp = s));
    });
    const neighbour = flow(async () => {
      await nconn.connect(p.dst, p.neighbourDport);
      neighbourSent = (await sendfileAll(nconn.sock, nfd, 0, other.layout.size, { stallMs: p.stallMs ?? STALL_MS })).sent;
      await nconn.closeAcked(CLOSE_WAIT_MS, (s) => (stats.neighbourTcp = s));
    });
    const [failure, neighbourFailure] = await Promise.all([main, neighbour]);
    return report(log, { sent, calls, neighbourSent, failure, neighbourFailure, ...stats });
  } finally {
    conn.close();
    nconn.close();
    fs.closeSync(fd);
    fs.closeSync(nfd);
  }
});

defineAction('zc.zerocopyMutate', async (p) => {
  const log = new WriteLog(p.size, p.blockSize);
  const rng = createRng(p.rngSeed);
  const scratch = Buffer.alloc(p.blockSize);
  const mem = new NativeBuffer(p.size);
  const nmem = new NativeBuffer(p.neighbourSize);
  fillFile(mem.bytes, { seed: p.seed, size: p.size }, 0);
  fillFile(nmem.bytes, { seed: p.neighbourSeed, size: p.neighbourSize }, 0);
  const conn = TcpConnection.open(p.family, { src: p.src });
  const nconn = TcpConnection.open(p.family, { src: p.src });
  const stats: Pick<MutateReport, 'tcp' | 'neighbourTcp'> = {};
  let zc: ZerocopySender | undefined;
  let nzc: ZerocopySender | undefined;
  let sent = 0;
  let nsent = 0;
  const frontier = new CompletionFrontier();
  let seen = 0;
  let poisonedUpTo = 0;
  const write = (block: number, code: number) => {
    const [a, b] = log.range(block);
    fillGeneration(scratch.subarray(0, b - a), p.seed, a, code);
    scratch.copy(mem.bytes, a, 0, b - a);
  };
  // Blocks whose every send completed take POISON: from now on the kernel must not read them.
  const poison = () => {
    if (!zc) return;
    zc.readCompletions();
    for (const c of zc.completions.slice(seen)) frontier.complete(c.lo, c.hi);
    seen = zc.completions.length;
    const end = frontier.frontier();
    for (; (poisonedUpTo + 1) * p.blockSize <= end || (poisonedUpTo < log.blocks && end === p.size); poisonedUpTo++) {
      write(poisonedUpTo, POISON);
      log.recordPoison(poisonedUpTo);
    }
  };
  try {
    const main = flow(async () => {
      await conn.connect(p.dst, p.dport);
      zc = new ZerocopySender(conn.sock);
      let idleSince = Date.now();
      while (sent < p.size) {
        const n = zc.send(mem, sent, Math.min(p.chunk, p.size - sent));
        if (n === null) {
          poison();
          if (Date.now() - idleSince >= (p.stallMs ?? STALL_MS))
            throw syscallError(
              'send(MSG_ZEROCOPY)',
              EAGAIN,
              `${conn.sock.what} (no room for ${p.stallMs ?? STALL_MS} ms after ${sent} of ${p.size} bytes)`,
            );
          await conn.sock.wait(C.POLLOUT, 20);
          continue;
        }
        frontier.sent(zc.calls - 1, sent + n);
        const from = sent;
        sent += n;
        idleSince = Date.now();
        // Sent but not completed: the user's writes here may or may not reach the wire.
        for (const w of planWrites(rng, log, from, sent)) write(w.block, w.code);
        poison();
        await yieldLoop();
      }
      const deadline = Date.now() + (p.completionWaitMs ?? COMPLETION_WAIT_MS);
      while (zc.pending > 0 && Date.now() < deadline) {
        poison();
        await conn.sock.wait(0, 20);
      }
      poison();
      await conn.closeAcked(CLOSE_WAIT_MS, (s) => (stats.tcp = s));
    });
    const neighbour = flow(async () => {
      await nconn.connect(p.dst, p.neighbourDport);
      nzc = new ZerocopySender(nconn.sock);
      for (let off = 0; off < p.neighbourSize; off += p.chunk)
        nsent += await nzc.sendAll(nmem, off, Math.min(p.chunk, p.neighbourSize - off), p.stallMs ?? STALL_MS);
      await nzc.waitAll(p.completionWaitMs ?? COMPLETION_WAIT_MS);
      await nconn.closeAcked(CLOSE_WAIT_MS, (s) => (stats.neighbourTcp = s));
    });
    const [failure, neighbourFailure] = await Promise.all([main, neighbour]);
    return report(log, {
      sent,
      calls: zc?.calls ?? 0,
      neighbourSent: nsent,
      completions: zc ? [...zc.completions] : [],
      failure,
      neighbourFailure,
      ...stats,
    });
  } finally {
    zc?.dispose();
    nzc?.dispose();
    conn.close();
    nconn.close();
    mem.free();
    nmem.free();
  }
});
