/**
 * TCP through the syscall layer across a real veth pair: the libc client and
 * sink, sendfile byte-exactness, MSG_ZEROCOPY completions, errors that name
 * the call, and waits that leave the event loop free.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as C from '../../harness/sys/consts.js';
import { NativeBuffer } from '../../harness/sys/memory.js';
import { PacketSocket } from '../../harness/sys/packet.js';
import { inNetns } from '../../harness/sys/netns.js';
import { sendfileAll, sendfileOnce } from '../../harness/sys/sendfile.js';
import { TcpSink } from '../../harness/sys/sink.js';
import { TcpListener } from '../../harness/sys/listener.js';
import { readToEnd } from '../../harness/sys/stream-reader.js';
import { TcpConnection, type TcpStats } from '../../harness/sys/tcp.js';
import { ZerocopySender } from '../../harness/sys/zerocopy.js';
import { makeVethLink, type VethLink } from './sys-fixtures.js';

let link: VethLink;
let dir: string;
beforeAll(async () => {
  link = await makeVethLink('tc');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nicmatrix-sys-tcp-'));
});
afterAll(async () => {
  await link?.destroy();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
let nextPort = 7000;

/** A sink in B and a connected client in A, over IPv4 or IPv6. */
async function pair(family: 4 | 6) {
  const port = nextPort++;
  const dst = family === 4 ? link.b.ipv4 : link.b.ipv6;
  const sink = inNetns(link.b.netns, () => TcpSink.open(family, dst, port));
  const conn = inNetns(link.a.netns, () => TcpConnection.open(family, { src: family === 4 ? link.a.ipv4 : link.a.ipv6 }));
  await conn.connect(dst, port);
  return { sink, conn };
}

describe('libc TCP client and sink', () => {
  it.each([4, 6] as const)('IPv%i: two connections hash as one stream in accept order; each payload is counted', async (family) => {
    const { sink, conn } = await pair(family);
    const one = crypto.randomBytes(70_000);
    const two = Buffer.from('second connection');
    expect(await conn.sendAll(one)).toBe(one.length);
    expect(await conn.waitAcked()).toBe(true);
    expect(conn.unacked()).toBe(0);
    expect(conn.local()).toMatchObject({ family, addr: family === 4 ? link.a.ipv4 : link.a.ipv6 });
    await conn.closeAcked();
    const port = nextPort - 1;
    const second = inNetns(link.a.netns, () => TcpConnection.open(family));
    await second.connect(family === 4 ? link.b.ipv4 : link.b.ipv6, port);
    await second.sendAll(two);
    await second.closeAcked();
    const got = await sink.close();
    expect(got).toEqual({
      bytes: one.length + two.length,
      connections: 2,
      sha256: sha256(Buffer.concat([one, two])),
      dataSegsIn: expect.any(Number),
    });
    // Every data segment reaching the sockets is counted: at least one per MSS of payload.
    expect(got.dataSegsIn).toBeGreaterThanOrEqual(Math.ceil((one.length + two.length) / 65483));
  });

  it('closeAcked ends once the FIN is acknowledged while the receiver stays open; it then counts every data segment sent', async () => {
    const port = nextPort++;
    const listener = inNetns(link.b.netns, () => TcpListener.open(4, link.b.ipv4, port));
    const conn = inNetns(link.a.netns, () => TcpConnection.open(4, { src: link.a.ipv4 }));
    try {
      await conn.connect(link.b.ipv4, port);
      let peer: TcpConnection | null = null;
      while (!(peer = listener.accept())) await listener.sock.wait(C.POLLIN, 1000);
      const payload = crypto.randomBytes(1 << 20);
      const reading = readToEnd(peer, () => undefined, { stop: () => false });
      expect(await conn.sendAll(payload)).toBe(payload.length);
      let sent: TcpStats | undefined;
      await conn.closeAcked(5000, (s) => (sent = s));
      expect((await reading).eof).toBe(true);
      peer.ackNow();
      // The receiver never sent its FIN (CLOSE_WAIT): its socket is still there for copies in flight, and counts them all.
      expect(sent?.dataSegsOut).toBeGreaterThan(0);
      expect(peer.stats()?.dataSegsIn).toBe(sent?.dataSegsOut);
      peer.close();
    } finally {
      conn.close();
      listener.close();
    }
  });

  it('a connection reset by the client ends it in the sink like EOF, with what arrived counted', async () => {
    const { sink, conn } = await pair(4);
    await conn.sendAll(Buffer.from('before the reset'));
    expect(await conn.waitAcked()).toBe(true);
    // SO_LINGER {on, 0 s}: close() sends a reset instead of a FIN.
    const linger = Buffer.alloc(8);
    linger.writeInt32LE(1, 0);
    conn.sock.setBytes(C.SOL_SOCKET, C.SO_LINGER, linger, 'SO_LINGER');
    conn.close();
    expect(await sink.close()).toMatchObject({ bytes: 16, connections: 1, sha256: sha256(Buffer.from('before the reset')) });
  });

  it('connect to a closed port fails naming the call and the errno', async () => {
    const conn = inNetns(link.a.netns, () => TcpConnection.open(4));
    try {
      await expect(conn.connect(link.b.ipv4, 1)).rejects.toThrow(
        `connect(${link.b.ipv4} port 1) on TCP/IPv4 socket: ECONNREFUSED (Connection refused)`,
      );
    } finally {
      conn.close();
    }
  });

  it('a worker-thread wait leaves the event loop running', async () => {
    const { sink, conn } = await pair(4);
    let ticks = 0;
    let waiting = true;
    const spin = (async () => {
      while (waiting) {
        ticks++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    // Nothing will arrive on the client: the wait lasts its whole timeout.
    expect(await conn.sock.wait(C.POLLIN, 200)).toBe(0);
    waiting = false;
    await spin;
    expect(ticks).toBeGreaterThan(20);
    await conn.closeAcked();
    await sink.close();
  });
});

describe('sendfile', () => {
  it.each([
    ['a whole small file', 0, 10_000],
    ['an odd offset and a page + 1', 1, 4097],
    ['a larger span in several calls', 12_345, 3_000_000],
  ])('%s arrives byte-exact', async (_name, offset, count) => {
    const content = crypto.randomBytes(3_100_000);
    const file = path.join(dir, `f-${offset}-${count}.bin`);
    fs.writeFileSync(file, content);
    const fd = fs.openSync(file, 'r');
    const { sink, conn } = await pair(4);
    try {
      const res = await sendfileAll(conn.sock, fd, offset, count, { maxPerCall: 1 << 20 });
      expect(res.sent).toBe(count);
      expect(res.calls).toBeGreaterThanOrEqual(Math.ceil(count / (1 << 20)));
      await conn.closeAcked();
      expect(await sink.close()).toEqual({
        bytes: count,
        connections: 1,
        sha256: sha256(content.subarray(offset, offset + count)),
        dataSegsIn: expect.any(Number),
      });
    } finally {
      fs.closeSync(fd);
      conn.close();
    }
  });

  it('reports the new file offset and 0 at end of file', async () => {
    const file = path.join(dir, 'short.bin');
    fs.writeFileSync(file, Buffer.from('0123456789'));
    const fd = fs.openSync(file, 'r');
    const { sink, conn } = await pair(4);
    try {
      expect(await sendfileOnce(conn.sock, fd, 4, 100)).toEqual({ sent: 6, offset: 10 });
      expect(await sendfileOnce(conn.sock, fd, 10, 100)).toEqual({ sent: 0, offset: 10 });
      expect((await sendfileAll(conn.sock, fd, 0, 50)).sent).toBe(10);
      await conn.closeAcked();
      expect((await sink.close()).bytes).toBe(16);
    } finally {
      fs.closeSync(fd);
    }
  });

  it('an fd that is not a file fails naming sendfile and the errno', async () => {
    const { sink, conn } = await pair(4);
    try {
      await expect(sendfileOnce(conn.sock, 987_654, 0, 10)).rejects.toThrow(
        /^sendfile\(in fd 987654, offset 0, count 10\) on TCP\/IPv4 socket: EBADF/,
      );
    } finally {
      await conn.closeAcked();
      await sink.close();
    }
  });
});

describe('MSG_ZEROCOPY', () => {
  it('on veth every send completes, flagged SO_EE_CODE_ZEROCOPY_COPIED, and the bytes arrive', async () => {
    const { sink, conn } = await pair(4);
    const mem = new NativeBuffer(256 << 10);
    crypto.randomFillSync(mem.bytes);
    const zc = new ZerocopySender(conn.sock);
    try {
      for (let i = 0; i < 4; i++) expect(await zc.sendAll(mem, i * (64 << 10), 64 << 10)).toBe(64 << 10);
      expect(zc.calls).toBeGreaterThanOrEqual(4);
      expect(await zc.waitAll()).toBe(true);
      expect(zc.pending).toBe(0);
      // The ranges cover calls 0..calls-1 without gaps.
      const covered = zc.completions.flatMap((c) => Array.from({ length: c.hi - c.lo + 1 }, (_, k) => c.lo + k)).sort((x, y) => x - y);
      expect(covered).toEqual(Array.from({ length: zc.calls }, (_, k) => k));
      // Crossing into another netns, veth hands the pages to a local receiver: the kernel copies.
      expect(zc.completions.every((c) => c.copied)).toBe(true);
      await conn.closeAcked();
      expect(await sink.close()).toMatchObject({ bytes: 256 << 10, sha256: sha256(Buffer.from(mem.bytes)) });
    } finally {
      zc.dispose();
      conn.close();
      mem.free();
    }
  });

  it('SO_ZEROCOPY where it cannot be had names the option and the reason', () => {
    // Only TCP, UDP (and RDS) sockets take SO_ZEROCOPY.
    const pkt = inNetns(link.a.netns, () => PacketSocket.open(link.a.ifname, { receive: false }));
    try {
      expect(() => new ZerocopySender(pkt.sock)).toThrow(
        /^setsockopt\(SO_ZEROCOPY\) on AF_PACKET socket on \S+: EOPNOTSUPP \(Operation not supported\)$/,
      );
    } finally {
      pkt.close();
    }
    const conn = inNetns(link.a.netns, () => TcpConnection.open(4));
    conn.close();
    expect(() => new ZerocopySender(conn.sock)).toThrow(/^setsockopt\(SO_ZEROCOPY\) on TCP\/IPv4 socket: the socket is already closed$/);
  });
});
