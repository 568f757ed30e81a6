/**
 * The socket actions of real agents in two netns joined by veth: captures
 * with PACKET_AUXDATA and vnet headers, udp.send knobs, packet.send with a
 * virtio_net_hdr, the TCP sink and segment-per-payload sends, and an agent
 * that keeps answering while a capture waits.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapturedFrame } from '../../harness/agent/protocol.js';
import { type LocalAgent, spawnLocalAgent } from '../../harness/agent/spawn.js';
import { buildUdpFrame, parseFrame, verifyL4 } from '../../harness/codec/index.js';
import { PACKET_HOST, TP_STATUS_CSUMNOTREADY } from '../../harness/sys/consts.js';
import { makeVethLink, setTxCsum, type VethLink } from './sys-fixtures.js';

let link: VethLink;
let agentA: LocalAgent;
let agentB: LocalAgent;
beforeAll(async () => {
  link = await makeVethLink('ag');
  agentA = await spawnLocalAgent('agent-a', link.a.netns);
  agentB = await spawnLocalAgent('agent-b', link.b.netns);
});
afterAll(async () => {
  await agentA?.stop();
  await agentB?.stop();
  await link?.destroy();
});

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const bytesOf = (f: CapturedFrame) => Buffer.from(f.data, 'base64');

/**
 * Runs `send` while agent B captures on its end; returns the frames B received
 * (not its own) from source port `sport`: IPv6 housekeeping of a fresh link (MLD, RS) is left out.
 */
async function captured(sport: number, expect: number, send: () => Promise<unknown>) {
  const { id } = await agentB.client.call('capture.start', { ifname: link.b.ifname, vnetHdr: true });
  await send();
  // The flow's frames were queued before send() returned (veth delivers at once); settleMs covers the rest.
  const res = await agentB.client.call('capture.stop', { id, expect, settleMs: 100, timeoutMs: 5000, ignoreOutgoing: true });
  return { dropped: res.dropped, frames: res.frames.filter((f) => parseFrame(bytesOf(f)).l4?.sport === sport) };
}

describe('capture + udp.send', () => {
  it('a datagram sent with TX offload on arrives partial, with csum_start/offset and auxdata', async () => {
    await setTxCsum(link.a, true);
    const payload = 'agent udp payload';
    const { frames, dropped } = await captured(40001, 1, () =>
      agentA.client.call('udp.send', { family: 4, src: link.a.ipv4, dst: link.b.ipv4, sport: 40001, dport: 9, payloads: [b64(payload)] }),
    );
    expect(dropped).toBe(0);
    expect(frames).toHaveLength(1);
    const f = frames[0]!;
    expect(f).toMatchObject({ pkttype: PACKET_HOST, vlanTci: 0, vlanTpid: 0, csumStart: 34, csumOffset: 6, vnetFlags: 1 });
    expect(f.status & TP_STATUS_CSUMNOTREADY).toBe(TP_STATUS_CSUMNOTREADY);
    expect(f.len).toBe(bytesOf(f).length);
    expect(f.tsNs).toBeGreaterThan(0);
    const p = parseFrame(bytesOf(f));
    expect(p.ip).toMatchObject({ src: link.a.ipv4, dst: link.b.ipv4 });
    expect(bytesOf(f).subarray(p.payload!.offset).toString()).toBe(payload);
  });

  it('each payload is one datagram; noChecksum, ipOptions and ipv6DstOpts reach the socket', async () => {
    const v4 = await captured(40002, 3, () =>
      agentA.client.call('udp.send', {
        family: 4,
        dst: link.b.ipv4,
        sport: 40002,
        dport: 9,
        payloads: [b64('a'), b64('bb'), b64('ccc')],
        noChecksum: true,
        ipOptions: b64(Buffer.from([1, 1, 1, 0])),
      }),
    );
    expect(v4.frames).toHaveLength(3);
    expect(v4.frames.map((f) => parseFrame(bytesOf(f)).l4?.udp?.length)).toEqual([9, 10, 11]);
    for (const f of v4.frames) {
      expect(parseFrame(bytesOf(f)).l4?.checksum).toBe(0);
      expect(bytesOf(f)[14]).toBe(0x46);
    }
    const v6 = await captured(40003, 1, () =>
      agentA.client.call('udp.send', {
        family: 6,
        dst: link.b.ipv6,
        sport: 40003,
        dport: 9,
        payloads: [b64('six')],
        ipv6DstOpts: b64(Buffer.from([0, 0, 1, 4, 0, 0, 0, 0])),
      }),
    );
    expect(v6.frames).toHaveLength(1);
    expect(parseFrame(bytesOf(v6.frames[0]!)).ip).toMatchObject({ family: 6, nextHeader: 60, proto: 17 });
  });
});

describe('packet.send', () => {
  const vnet = { flags: 1, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 34, csumOffset: 6 };
  const frame = () =>
    buildUdpFrame({
      family: 4,
      srcMac: link.a.mac,
      dstMac: link.b.mac,
      src: link.a.ipv4,
      dst: link.b.ipv4,
      sport: 40004,
      dport: 9,
      payload: Buffer.from('vnet via agent'),
      checksum: 'partial',
    });

  it('with NEEDS_CSUM and TX offload off, the peer receives a completed checksum', async () => {
    await setTxCsum(link.a, false);
    try {
      const { frames } = await captured(40004, 1, async () => {
        expect(
          await agentA.client.call('packet.send', { ifname: link.a.ifname, frames: [frame().toString('base64')], vnet: [vnet] }),
        ).toEqual({ sent: 1 });
      });
      expect(frames).toHaveLength(1);
      expect(frames[0]!.status & TP_STATUS_CSUMNOTREADY).toBe(0);
      expect(frames[0]!.csumStart).toBeUndefined();
      expect(verifyL4(bytesOf(frames[0]!))).toMatchObject({ ok: true, state: 'good' });
    } finally {
      await setTxCsum(link.a, true);
    }
  });

  it('with TX offload on, the frame stays partial and its offsets survive', async () => {
    const { frames } = await captured(40004, 1, () =>
      agentA.client.call('packet.send', { ifname: link.a.ifname, frames: [frame().toString('base64')], vnet: [vnet] }),
    );
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ csumStart: 34, csumOffset: 6 });
    expect(bytesOf(frames[0]!).equals(frame())).toBe(true);
  });

  it('one header per frame is required, and a missing interface is a SYSCALL error naming the call', async () => {
    await expect(
      agentA.client.call('packet.send', { ifname: link.a.ifname, frames: [frame().toString('base64')], vnet: [] }),
    ).rejects.toThrow(/expected one virtio_net_hdr per frame \(1\), found 0/);
    await expect(agentA.client.call('packet.send', { ifname: 'nmsys-none', frames: [] })).rejects.toMatchObject({
      code: 'SYSCALL',
      message: expect.stringContaining('if_nametoindex("nmsys-none"): ENODEV (No such device)'),
    });
  });
});

describe('tcp.listen / tcp.send / tcp.listenClose', () => {
  it.each([4, 6] as const)('IPv%i: every payload is its own segment, and the sink counts and hashes the stream', async (family) => {
    const dst = family === 4 ? link.b.ipv4 : link.b.ipv6;
    const src = family === 4 ? link.a.ipv4 : link.a.ipv6;
    const payloads = [crypto.randomBytes(100), crypto.randomBytes(1), crypto.randomBytes(1000)];
    const port = 8000 + family;
    const { id } = await agentB.client.call('tcp.listen', { family, addr: dst, port });
    const sport = 41000 + family;
    const { frames } = await captured(sport, payloads.length + 3, async () => {
      const r = await agentA.client.call('tcp.send', { family, src, dst, dport: port, sport, payloads: payloads.map((p) => b64(p)) });
      // tcp: the sending socket's TCP_INFO, read once its FIN was acknowledged: three data segments put out.
      expect(r).toMatchObject({ sent: 3, bytes: 1101, sport, tcp: { dataSegsOut: 3 } });
      expect(Object.keys(r).sort()).toEqual(['bytes', 'sent', 'sport', 'tcp']);
    });
    const res = await agentB.client.call('tcp.listenClose', { id });
    // dataSegsIn: each payload was its own segment, and the receiving socket counted the three.
    expect(res).toEqual({
      bytes: 1101,
      connections: 1,
      dataSegsIn: 3,
      sha256: crypto.createHash('sha256').update(Buffer.concat(payloads)).digest('hex'),
    });
    const segments = frames
      .map((f) => parseFrame(bytesOf(f)))
      .filter((p) => p.l4?.dport === port && (p.payload?.length ?? 0) > 0)
      .map((p) => p.payload!.length);
    expect(segments).toEqual([100, 1, 1000]);
  });

  it('listenClose of an unknown id says so', async () => {
    await expect(agentB.client.call('tcp.listenClose', { id: 'tcp-listener-999' })).rejects.toThrow(
      /expected an open listener "tcp-listener-999", found none/,
    );
    await expect(agentB.client.call('capture.stop', { id: 'capture-999' })).rejects.toThrow(
      /expected an open capture "capture-999", found none/,
    );
  });
});

describe('agent liveness and resources', () => {
  it('answers a ping while a capture waits out its settle time', async () => {
    const { id } = await agentB.client.call('capture.start', { ifname: link.b.ifname });
    let stopped = false;
    const stop = agentB.client.call('capture.stop', { id, settleMs: 1500 }).then((r) => {
      stopped = true;
      return r;
    });
    expect((await agentB.client.call('agent.ping', {})).pid).toBeGreaterThan(0);
    expect(stopped).toBe(false);
    expect((await stop).dropped).toBe(0);
  });

  it('an agent that exits with a capture and a listener open releases them (the port can be bound again)', async () => {
    const extra = await spawnLocalAgent('agent-b2', link.b.netns);
    try {
      await extra.client.call('capture.start', { ifname: link.b.ifname });
      await extra.client.call('tcp.listen', { family: 4, addr: link.b.ipv4, port: 8100 });
    } finally {
      await extra.stop();
    }
    const { id } = await agentB.client.call('tcp.listen', { family: 4, addr: link.b.ipv4, port: 8100 });
    expect(await agentB.client.call('tcp.listenClose', { id })).toMatchObject({ bytes: 0, connections: 0 });
  });
});
