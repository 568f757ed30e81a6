/**
 * The zc family end to end through the real CLI: veth gives a verdict for
 * every check and variant, its MSG_ZEROCOPY completions say the kernel
 * copied; and a DUT whose egress rewrites a payload byte while keeping the
 * TCP checksum valid fails the byte oracles.
 */
import { execa } from 'execa';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { smallFiles } from '../../harness/checks/zc/cases.js';
import { fillFile } from '../../harness/codec/zc/pattern.js';
import type { ResultRecord } from '../../matrix/record.js';
import { nicmatrix, readRecord, tmpDir, verdictLines } from '../helpers/cli.js';
import { corruptEgress, corruptIngress } from '../helpers/faults.js';
import { netnsOf } from '../helpers/leftovers.js';
import { makePortPair, type PortPair } from '../helpers/pair.js';

const pairs: PortPair[] = [];
afterAll(async () => {
  for (const p of pairs) await p.remove();
});

const find = (results: ResultRecord[], check: string, variant: string) => results.find((r) => r.check === check && r.variant === variant)!;

describe('zc on veth', () => {
  it('every check and variant has a verdict, none fail or error; MSG_ZEROCOPY completions are copied, and honoured says why', async () => {
    const out = path.join(tmpDir('zc'), 'run.json');
    const r = await nicmatrix(['run', '--target', 'veth', '--checks', 'zc/*', '--out', out]);
    const record = readRecord(out);
    const lines = verdictLines(record);
    expect(lines.map((l) => l.replace(/ \w+$/, '')).sort()).toEqual(
      [
        ...['offload-on', 'tso-off', 'gso-off', 'sg-off', 'offload-off'].map((v) => `veth zc/sendfile [${v}]`),
        'veth zc/msg-zerocopy [sg-on]',
        'veth zc/msg-zerocopy [sg-off]',
        'veth zc/msg-zerocopy-honoured [sg-on]',
        ...['offload-on', 'tso-off', 'offload-off'].map((v) => `veth zc/sendfile-mutate [${v}]`),
        'veth zc/msg-zerocopy-mutate [sg-on]',
        'veth zc/msg-zerocopy-mutate [sg-off]',
      ].sort(),
    );
    expect(
      lines.filter((l) => !/ (pass|skip)$/.test(l)),
      r.stderr,
    ).toEqual([]);
    expect(r.exitCode, r.stderr).toBe(0);
    const results = record.targets[0]!.results;

    const sendfile = find(results, 'zc/sendfile', 'offload-on');
    expect(sendfile.status).toBe('pass');
    expect(sendfile.evidence.largeSize).toBe(64 << 20);
    expect(sendfile.evidence.throughputBps).toBeGreaterThan(0);
    // The peer verified 64 MiB while streaming: its memory grew by far less than the file.
    const rss = sendfile.evidence as { peerPeakRssBytes: number; peerRssStartBytes: number };
    expect(rss.peerPeakRssBytes - rss.peerRssStartBytes).toBeLessThan(32 << 20);

    // Both ends counted every copy of every connection (the receiver keeps its socket until the sender's copies are in).
    const cases = sendfile.evidence.cases as { case: string; retransmits?: { wireLost?: number } }[];
    for (const c of cases) expect(c.retransmits?.wireLost, c.case).toBeTypeOf('number');

    const zc = find(results, 'zc/msg-zerocopy', 'sg-on');
    expect(zc.status).toBe('pass');
    expect(zc.evidence.zerocopy).toBe('copied');
    expect(zc.evidence.copiedCalls).toBe(zc.evidence.calls);
    expect(zc.message).toMatch(
      /each completed exactly once, all \d+ bytes exact on the peer; all copied by the kernel \(SO_EE_CODE_ZEROCOPY_COPIED\); \d+ TCP segment\(s\) lost/,
    );

    // Local delivery copies by kernel policy: nothing about the device is proven either way.
    const honoured = find(results, 'zc/msg-zerocopy-honoured', 'sg-on');
    expect(honoured.status).toBe('skip');
    expect(honoured.message).toMatch(
      /were copied: the veth driver delivers to a local socket, and the kernel copies .* a kernel policy, not a property of the device/,
    );
    expect(honoured.evidence).toMatchObject({ zerocopy: 'copied', localDelivery: 'the veth driver', bytesExact: true });
    // Every TCP check bounds its losses, with the bound in the evidence.
    for (const x of results)
      expect(x.evidence.retransmits, `${x.check} [${x.variant}]`).toMatchObject({ ok: true, bound: expect.any(Number) });

    // The mutation checks hold the receivers' data segments against the senders' too: a retransmission is only a loss
    // when its original never arrived.
    for (const x of results.filter((y) => y.check.endsWith('-mutate')))
      expect(x.evidence.retransmits, `${x.check} [${x.variant}]`).toHaveProperty('wireLost');
    const mutate = find(results, 'zc/msg-zerocopy-mutate', 'sg-on');
    expect((mutate.evidence.blocks as { poisoned: number; total: number }).poisoned).toBe(
      (mutate.evidence.blocks as { total: number }).total,
    );
    expect(await netnsOf(r.pid!)).toEqual([]);
  });
});

describe('zc catches a device that alters payload bytes with valid checksums', () => {
  it('an egress rule rewriting one TCP payload byte (nft updates the checksum) fails the byte oracles, not the checksums', async () => {
    const pair = await makePortPair('zc');
    pairs.push(pair);
    // The byte at TCP offset 100 is payload offset 68 after a 32-byte header with timestamps.
    await corruptEgress(pair.dutNs, pair.dutIf, ['ip protocol tcp ip length > 500 @th,800,8 set 0x5a']);
    // The peer verifies checksums itself (veth would otherwise vouch for them): a bad one would count.
    await execa('ip', ['netns', 'exec', pair.peerNs, 'ethtool', '-K', pair.peerIf, 'rx', 'off']);
    const out = path.join(tmpDir('zcf'), 'run.json');
    const r = await nicmatrix(['run', '--target', pair.spec, '--checks', 'zc/*', '--out', out]);
    const results = readRecord(out).targets[0]!.results;
    const status = Object.fromEntries(results.map((x) => [`${x.check} [${x.variant}]`, x.status]));
    expect(status, r.stderr).toEqual({
      'zc/sendfile [offload-on]': 'fail',
      'zc/sendfile [tso-off]': 'fail',
      'zc/sendfile [gso-off]': 'fail',
      'zc/sendfile [sg-off]': 'fail',
      'zc/sendfile [offload-off]': 'fail',
      'zc/msg-zerocopy [sg-on]': 'fail',
      'zc/msg-zerocopy [sg-off]': 'fail',
      // A pass proves delivery: altered bytes fail the honoured column too.
      'zc/msg-zerocopy-honoured [sg-on]': 'fail',
      'zc/sendfile-mutate [offload-on]': 'fail',
      'zc/sendfile-mutate [tso-off]': 'fail',
      'zc/sendfile-mutate [offload-off]': 'fail',
      'zc/msg-zerocopy-mutate [sg-on]': 'fail',
      'zc/msg-zerocopy-mutate [sg-off]': 'fail',
    });
    expect(r.exitCode).toBe(1);
    for (const x of results.filter((y) => y.check === 'zc/sendfile')) {
      // The 1 MiB file is seeded random: where its byte 68 already is 0x5a the rule changes nothing there (1 in 256
      // seeds), and the first difference is the next rewritten byte, 68 bytes into a later segment.
      const byte68 = Buffer.alloc(1);
      fillFile(byte68, smallFiles(x.evidence.seed!)['1MiB']!, 68);
      const first = byte68[0] === 0x5a ? '\\d+ \\(expected ' : `68 \\(expected ${byte68.toString('hex')}`;
      expect(x.message).toMatch(new RegExp(`whole 1MiB: \\d+ byte\\(s\\) differ, first at offset ${first}[0-9a-f]*, found 5a`));
      expect(x.message).not.toMatch(/stall|never reached/);
      expect(x.evidence.counters?.peerNstat?.TcpInCsumErrors ?? 0).toBe(0);
    }
    for (const x of results.filter((y) => y.check.endsWith('-mutate'))) {
      expect(x.message).toMatch(/belong to no generation written there|untouched neighbour flow: \d+ byte\(s\) differ/);
      expect(x.evidence.peerCsumErrors).toBe(0);
    }
  });

  it('a DUT that drops full-sized TCP segments stalls the flows: the mutation check fails naming the stall, not an error', async () => {
    const pair = await makePortPair('zcs');
    pairs.push(pair);
    await corruptEgress(pair.dutNs, pair.dutIf, ['ip protocol tcp ip length > 1000 drop']);
    const out = path.join(tmpDir('zcs'), 'run.json');
    const r = await nicmatrix(['run', '--target', pair.spec, '--checks', 'zc/msg-zerocopy-mutate', '--out', out]);
    const results = readRecord(out).targets[0]!.results;
    expect(
      results.map((x) => `${x.variant} ${x.status}`),
      r.stderr,
    ).toEqual(['sg-on fail', 'sg-off fail']);
    for (const x of results) {
      expect(x.evidence.faults).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/the DUT's send failed: send\(MSG_ZEROCOPY\) on TCP\/IPv4 socket: E(TIMEDOUT|AGAIN)/),
          expect.stringMatching(/stall: the stream did not end/),
        ]),
      );
    }
    expect(r.exitCode).toBe(1);
  });
});

/** Runs `checks` on a fresh port pair whose one end carries `rules`; the results by `check [variant]`. */
async function brokenRun(tag: string, side: 'dut-egress' | 'peer-ingress', rules: string[], checks: string) {
  const pair = await makePortPair(tag);
  pairs.push(pair);
  if (side === 'dut-egress') await corruptEgress(pair.dutNs, pair.dutIf, rules);
  else await corruptIngress(pair.peerNs, pair.peerIf, rules);
  const out = path.join(tmpDir(tag), 'run.json');
  const r = await nicmatrix(['run', '--target', pair.spec, '--checks', checks, '--out', out]);
  const results = readRecord(out).targets[0]!.results;
  return { r, results, status: Object.fromEntries(results.map((x) => [`${x.check} [${x.variant}]`, x.status])) };
}

type FlowEvidence = { flow: string; ok: boolean; datagrams?: { lost: number } };

describe('zc catches broken devices, and the sound parts of the same run pass', () => {
  it('frames lost on the wire (every 30th large IPv4 TCP frame): TCP recovers the bytes, the lost segments fail with their exact count; IPv6 and UDP flows pass', async () => {
    // Dropped at the peer's ingress: gone after the DUT sent them, as on a cable (an egress drop is only re-sent, never retransmitted).
    const { r, results, status } = await brokenRun(
      'zcl',
      'peer-ingress',
      ['ip protocol tcp ip length > 1000 numgen inc mod 30 == 0 drop'],
      'zc/msg-zerocopy',
    );
    expect(status, r.stderr).toEqual({ 'zc/msg-zerocopy [sg-on]': 'fail', 'zc/msg-zerocopy [sg-off]': 'fail' });
    for (const x of results) {
      expect(x.message).toMatch(
        /TCP\/IPv4 .*: \d+ TCP data segment\(s\) the sender put out never reached the receiving socket \(it got \d+ of \d+; \d+ retransmitted over \d+ bytes/,
      );
      // Every byte still arrived: the fault is the loss, not the data.
      expect(x.message).not.toMatch(/differ|never arrived|stall/);
      const flows = x.evidence.flows as FlowEvidence[];
      expect(flows.find((f) => f.flow.startsWith('TCP/IPv6'))?.ok).toBe(true);
      expect(flows.find((f) => f.flow.startsWith('UDP/IPv4'))).toMatchObject({ ok: true, datagrams: { lost: 0 } });
      // The storm rule this replaced (more than max(50, 10 % of the segments sent)) let this device pass.
      const rt = x.evidence.retransmits as { found: number; bound: number; deviceLost: number; detail: { TcpOutSegs: number } };
      expect(rt.found > Math.max(50, 0.1 * rt.detail.TcpOutSegs), JSON.stringify(rt)).toBe(false);
      expect(rt.deviceLost).toBeGreaterThanOrEqual(rt.bound);
    }
    expect(r.exitCode).toBe(1);
  });

  it('a wrong IPv4 header checksum on super-frames fails where they reach the wire (TSO), passes where software GSO rewrites every header', async () => {
    // A raw @nh write: nft fixes no checksum for it. The egress hook sees TCP's super-frames; with SG off the stack
    // segments them after the hook and writes each segment's header afresh, so the wire is sound there.
    const { r, results, status } = await brokenRun(
      'zch',
      'dut-egress',
      ['ip protocol tcp ip length > 10000 numgen inc mod 20 == 0 @nh,80,16 set 0x1234'],
      'zc/msg-zerocopy',
    );
    expect(status, r.stderr).toEqual({ 'zc/msg-zerocopy [sg-on]': 'fail', 'zc/msg-zerocopy [sg-off]': 'pass' });
    const bad = results.find((x) => x.variant === 'sg-on')!;
    expect(bad.evidence.faults).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\d+ frame\(s\) with a wrong IPv4 header checksum reached the peer \(IpExtInCsumErrors \+\d+\)$/),
        expect.stringMatching(/TCP\/IPv4 .* on the wire: \d+ of \d+ captured frame\(s\) carry a wrong IPv4 header checksum: #\d+: 0x1234/),
      ]),
    );
    // The IPv6 and UDP flows of the same run were sound.
    for (const f of bad.evidence.flows as FlowEvidence[]) if (!f.flow.startsWith('TCP/IPv4')) expect(f.ok, f.flow).toBe(true);
  });

  it('a wrong IPv4 total length on super-frames (1400 declared) is named on the wire; segmented in software, the seeds it left are wrong', async () => {
    const { r, results, status } = await brokenRun(
      'zcw',
      'dut-egress',
      ['ip protocol tcp ip length > 10000 numgen inc mod 20 == 0 ip length set 1400'],
      'zc/msg-zerocopy',
    );
    expect(status, r.stderr).toEqual({ 'zc/msg-zerocopy [sg-on]': 'fail', 'zc/msg-zerocopy [sg-off]': 'fail' });
    const faults = (v: string) => results.find((x) => x.variant === v)!.evidence.faults;
    expect(faults('sg-on')).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /TCP\/IPv4 .* on the wire: \d+ of \d+ captured frame\(s\) are longer than their IP packet \(wrong length field\): #\d+: \d+ bytes of IP packet on the wire, 1400 declared/,
        ),
      ]),
    );
    // Software GSO rewrites each segment's length, but each keeps the TCP seed summed over the false length.
    expect(faults('sg-off')).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /on the wire: \d+ of \d+ captured frame\(s\) carry a wrong TCP checksum: #\d+: CHECKSUM_PARTIAL with a wrong seed/,
        ),
      ]),
    );
    for (const x of results) expect(x.message).not.toMatch(/unsupported/);
  });
});
