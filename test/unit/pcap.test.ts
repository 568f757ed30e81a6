import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildIpv4Fragments, buildTcpFrame, buildUdpFrame, ETH_P_8021Q, tcpOpt } from '../../harness/codec/index.js';
import { PCAP_MAGIC_NS, pcapFile, readPcap } from '../../harness/codec/pcap.js';

function frames(): Buffer[] {
  const udp4 = buildUdpFrame({
    family: 4,
    src: '192.0.2.1',
    dst: '192.0.2.2',
    sport: 5000,
    dport: 6000,
    payload: Buffer.from('hello pcap'),
    ipOptions: Buffer.from([0x94, 4, 0, 0]),
  });
  const udp6 = buildUdpFrame({
    family: 6,
    src: '2001:db8::1',
    dst: '2001:db8::2',
    sport: 5001,
    dport: 6001,
    payload: Buffer.alloc(301, 0x41),
    ipv6ExtHeaders: [{ kind: 'hop-by-hop' }, { kind: 'destination' }],
    vlan: [{ tpid: ETH_P_8021Q, tci: 7 }],
  });
  const tcp4 = buildTcpFrame({
    family: 4,
    src: '192.0.2.1',
    dst: '192.0.2.2',
    sport: 80,
    dport: 40000,
    seq: 1,
    ack: 2,
    flags: 'PA',
    payload: Buffer.from('GET / HTTP/1.0\r\n\r\n'),
  });
  const tcp6 = buildTcpFrame({
    family: 6,
    src: '2001:db8::1',
    dst: '2001:db8::2',
    sport: 443,
    dport: 40001,
    flags: 'S',
    options: Buffer.concat([tcpOpt.mss(1440), tcpOpt.sackPermitted(), tcpOpt.timestamps(7, 0), tcpOpt.nop(), tcpOpt.wscale(7)]),
  });
  const big = buildUdpFrame({
    family: 4,
    src: '192.0.2.1',
    dst: '192.0.2.2',
    sport: 2049,
    dport: 700,
    payload: Buffer.alloc(3000, 3),
    ipv4: { id: 99 },
  });
  return [udp4, udp6, tcp4, tcp6, ...buildIpv4Fragments(big, 1480)];
}

describe('pcapFile', () => {
  it('writes the nanosecond magic and header fields little-endian', () => {
    const buf = pcapFile([]);
    expect(buf.length).toBe(24);
    expect(buf.readUInt32LE(0)).toBe(PCAP_MAGIC_NS);
    expect(buf.readUInt16LE(4)).toBe(2);
    expect(buf.readUInt16LE(6)).toBe(4);
    expect(buf.readUInt32LE(20)).toBe(1);
    expect(pcapFile([], 113).readUInt32LE(20)).toBe(113);
  });

  it('round-trips frames, nanosecond timestamps and original lengths', () => {
    const fs = frames();
    const input = fs.map((data, i) => ({ data, tsNs: 1_000_000_007 * i + 123, origLen: i === 1 ? data.length + 100 : undefined }));
    const back = readPcap(pcapFile(input));
    expect(back.nanos).toBe(true);
    expect(back.linktype).toBe(1);
    expect(back.frames.map((f) => f.tsNs)).toEqual(input.map((f) => f.tsNs));
    expect(back.frames.map((f) => f.origLen)).toEqual(fs.map((f, i) => (i === 1 ? f.length + 100 : f.length)));
    back.frames.forEach((f, i) => expect(Buffer.from(f.data).equals(fs[i]!)).toBe(true));
  });

  it('never stores an original length below the captured one', () => {
    const back = readPcap(pcapFile([{ data: Buffer.alloc(10), tsNs: 0, origLen: 4 }]));
    expect(back.frames[0]).toBeDefined();
    expect(back.frames[0]!.origLen).toBe(10);
  });

  describe('read back by tcpdump', () => {
    const dir = mkdtempSync(path.join(tmpdir(), `nicmatrix-pcap-${process.pid}-`));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    let tcpdump = true;
    try {
      execFileSync('tcpdump', ['--version'], { stdio: 'ignore' });
    } catch {
      tcpdump = false;
    }

    it.skipIf(!tcpdump)('tcpdump -r opens the file, reads every frame, and finds every checksum correct', () => {
      const file = path.join(dir, 'frames.pcap');
      const fs = frames();
      writeFileSync(file, pcapFile(fs.map((data, i) => ({ data, tsNs: 5_000_000_000 + i * 1500 }))));
      const out = execFileSync('tcpdump', ['-r', file, '-nn', '-vv', '-e', '-tt', '--time-stamp-precision=nano'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // -vv prints one or two lines per frame; each frame's first line starts with the timestamp.
      const starts = out.split('\n').filter((l) => /^\d+\.\d{9} /.test(l));
      expect(starts.length, out).toBe(fs.length);
      expect(starts[0]).toMatch(/^5\.000000000 /);
      expect(starts[1]).toMatch(/^5\.000001500 /);
      expect(out).toContain('192.0.2.1.5000 > 192.0.2.2.6000: [udp sum ok] UDP, length 10');
      expect(out).toMatch(/2001:db8::1 > 2001:db8::2: HBH \(padn\) DSTOPT \(padn\) 5001 > 6001: \[udp sum ok\] UDP, length 301/);
      expect(out).toMatch(/vlan 7/);
      expect(out).toMatch(/192\.0\.2\.1\.80 > 192\.0\.2\.2\.40000: Flags \[P\.\], cksum 0x[0-9a-f]{4} \(correct\)/);
      expect(out).toMatch(
        /2001:db8::1\.443 > 2001:db8::2\.40001: Flags \[S\], cksum 0x[0-9a-f]{4} \(correct\).*options \[mss 1440,sackOK,TS val 7 ecr 0,nop,wscale 7\]/,
      );
      expect(out).toMatch(/id 99, offset 0, flags \[\+\]/);
      expect(out).toMatch(/id 99, offset 1480, flags \[\+\]/);
      expect(out).toMatch(/id 99, offset 2960, flags \[none\]/);
      expect(out).not.toMatch(/incorrect|bad .*cksum|truncated/);
    });
  });
});
