/**
 * gso/partial end to end through the real CLI: on veth and lo the hardware
 * variant is unsupported with the ethtool proof and the stack's own cut of
 * tunnelled TCP passes (lo: no tunnel on one stack); a device that breaks the
 * outer UDP checksum of some tunnelled super-frames, or drops the last
 * segment of each write, fails it while tx-csum/* of the same run passes.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nicmatrix, readRecord, tmpDir, verdictLines } from '../helpers/cli.js';
import { corruptEgress } from '../helpers/faults.js';
import { netnsOf } from '../helpers/leftovers.js';
import { makePortPair, type PortPair } from '../helpers/pair.js';

const pairs: PortPair[] = [];
afterAll(async () => {
  for (const p of pairs) await p.remove();
});

describe('gso/partial on sound devices', () => {
  it(
    'veth: partial unsupported (tx-gso-partial off [fixed]), software passes; lo: unsupported and skipped',
    { timeout: 200_000 },
    async () => {
      const out = path.join(tmpDir('gso'), 'run.json');
      const r = await nicmatrix(['run', '--target', 'lo', '--target', 'veth', '--checks', 'gso/*', '--out', out]);
      const record = readRecord(out);
      expect(verdictLines(record).sort(), r.stderr).toEqual([
        'lo gso/partial [partial] unsupported',
        'lo gso/partial [software] skip',
        'veth gso/partial [partial] unsupported',
        'veth gso/partial [software] pass',
      ]);
      for (const t of record.targets) {
        const hw = t.results.find((x) => x.variant === 'partial')!;
        expect(hw.message).toMatch(/^tx-gso-partial is off \[fixed\] \(ethtool -k\)/);
      }
      const lo = record.targets.find((t) => t.spec === 'lo')!;
      expect(lo.results.find((x) => x.variant === 'software')!.message).toMatch(/two network stacks/);
      const sw = record.targets.find((t) => t.spec === 'veth')!.results.find((x) => x.variant === 'software')!;
      expect(sw.message).toMatch(/outer IPv4 header checksum, length and ID, outer UDP length and checksum right on all \d+ tunnel frames/);
      expect(sw.message).toMatch(/outer IPv6 payload length, outer UDP length and checksum right on all \d+ tunnel frames/);
      expect(sw.message).toMatch(/IPv6 TCP, MSS 1001, .* through VXLAN over IPv6: \d+ bytes in 3 writes arrived byte-exact/);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(await netnsOf(r.pid)).toEqual([]);
    },
  );
});

async function brokenRun(tag: string, rules: string[]) {
  const pair = await makePortPair(tag);
  pairs.push(pair);
  await corruptEgress(pair.dutNs, pair.dutIf, rules);
  const out = path.join(tmpDir(tag), 'run.json');
  const r = await nicmatrix(['run', '--target', pair.spec, '--checks', 'gso/*', '--checks', 'tx-csum/*', '--out', out]);
  const record = readRecord(out);
  const lines = verdictLines(record);
  // The hardware variant stays unsupported (veth offers no GSO partial); the software one must fail.
  expect(lines.filter((l) => l.includes(' gso/')).sort()).toEqual([
    `${pair.spec} gso/partial [partial] unsupported`,
    `${pair.spec} gso/partial [software] fail`,
  ]);
  expect(lines.filter((l) => l.includes('tx-csum/') && !/ (pass|unsupported)$/.test(l))).toEqual([]);
  expect(r.exitCode).toBe(1);
  return record.targets[0]!.results.find((x) => x.check === 'gso/partial' && x.variant === 'software')!;
}

/** The VXLAN port the tunnels use (outer IPv4 and IPv6), and where the inner EtherType and TCP flags sit after the outer UDP header. */
const VXLAN = ['ip protocol udp udp dport 4789', 'ip6 nexthdr udp udp dport 4789'];
const INNER_V4_PSH = '@th,224,16 0x0800 @th,504,8 & 0x08 == 0x08';
const INNER_V6_PSH = '@th,224,16 0x86dd @th,664,8 & 0x08 == 0x08';

describe('gso/partial catches a broken device', () => {
  it(
    'phys: a wrong outer UDP checksum on some tunnelled super-frames (odd lengths) fails the software variant naming it; tx-csum/* passes',
    { timeout: 400_000 },
    async () => {
      // The egress hook sees the super-frame before the stack cuts it: every segment cut from it inherits the wrong sum.
      const sw = await brokenRun(
        'gsocsum',
        VXLAN.map((m) => `${m} meta length > 1514 meta length & 1 == 1 @th,48,16 set 0x1234`),
      );
      expect(sw.message).toMatch(/frame #\d+: outer UDP checksum 0x[0-9a-f]{4} is wrong, expected 0x[0-9a-f]{4}/);
      // Only some frames were touched: the others of the same connections were judged right at every level.
      // Tunnels, then inner families, then connections.
      type Conn = { wrapping: { outerFrames: number; complete: number; innerPartial: number } };
      type Level<T> = { connections: T[] };
      const conns = (sw.evidence.connections as Level<Level<Conn>>[])
        .flatMap((t) => t.connections)
        .flatMap((f) => f.connections)
        .map((c) => c.wrapping);
      const right = conns.reduce((a, w) => a + w.complete + w.innerPartial, 0);
      expect(right).toBeGreaterThan(0);
      expect(right).toBeLessThan(conns.reduce((a, w) => a + w.outerFrames, 0));
    },
  );

  it(
    'phys: a device that drops the last segment of each write fails the software variant; tx-csum/* passes',
    { timeout: 400_000 },
    async () => {
      const sw = await brokenRun(
        'gsotail',
        VXLAN.flatMap((m) => [`${m} ${INNER_V4_PSH} drop`, `${m} ${INNER_V6_PSH} drop`]),
      );
      expect(sw.message).toMatch(/never appeared on the wire/);
      expect(sw.message).toMatch(/stalled|retransmitted \d+ segment\(s\)/);
    },
  );
});
