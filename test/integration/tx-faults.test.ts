/**
 * Broken devices for the transmit rules of a verdict: each nftables rule on a
 * veth pair driven as `phys:` breaks one thing, and exactly the cases it
 * touches fail, with the message that names it, while the rest still pass.
 */
import { execa } from 'execa';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../matrix/record.js';
import { nicmatrix, readRecord, tmpDir } from '../helpers/cli.js';
import { corruptEgress, corruptIngress } from '../helpers/faults.js';
import { makePortPair, type PortPair } from '../helpers/pair.js';

const pairs: PortPair[] = [];
afterAll(async () => {
  for (const p of pairs) await p.remove();
});

interface Fault {
  side: 'dut' | 'peer';
  hook: 'egress' | 'ingress';
  rules: string[];
}

async function runBroken(fault: Fault, checks: string[]): Promise<{ record: RunRecord; exitCode: number | undefined; stderr: string }> {
  const pair = await makePortPair('txb');
  pairs.push(pair);
  const [ns, ifname] = fault.side === 'dut' ? [pair.dutNs, pair.dutIf] : [pair.peerNs, pair.peerIf];
  await (fault.hook === 'egress' ? corruptEgress : corruptIngress)(ns, ifname, fault.rules);
  const out = path.join(tmpDir('txb'), 'run.json');
  const r = await nicmatrix(['run', '--target', pair.spec, ...checks.flatMap((c) => ['--checks', c]), '--out', out]);
  return { record: readRecord(out), exitCode: r.exitCode, stderr: r.stderr };
}

/** `check status` of every result that is not a pass or unsupported, once each. */
function notPassing(record: RunRecord): string[] {
  const out = record.targets[0]!.results.filter((x) => x.status !== 'pass' && x.status !== 'unsupported').map(
    (x) => `${x.check} ${x.status}`,
  );
  return [...new Set(out)].sort();
}

function messagesOf(record: RunRecord, check: string): string[] {
  return record.targets[0]!.results.filter((x) => x.check === check).map((x) => x.message);
}

describe('transmit verdicts catch broken devices', () => {
  it('a UDP length field that disagrees with the IP length fails every IPv4 UDP case, as a wrong length', async () => {
    const { record, exitCode, stderr } = await runBroken({ side: 'dut', hook: 'egress', rules: ['ip protocol udp udp length set 8'] }, [
      'tx-csum/*',
    ]);
    expect(notPassing(record), stderr).toEqual(
      ['tx-csum/generic', 'tx-csum/ipv4-options', 'tx-csum/ipv4-udp', 'tx-csum/udp-nocsum', 'tx-csum/udp-zero'].map((c) => `${c} fail`),
    );
    for (const m of messagesOf(record, 'tx-csum/ipv4-udp')) expect(m).toMatch(/UDP length field 8 disagrees/);
    expect(exitCode).toBe(1);
  });

  it('a wrong IPv4 header checksum is named as such, not as an L4 checksum fault', async () => {
    const { record, stderr } = await runBroken({ side: 'dut', hook: 'egress', rules: ['ip protocol tcp @nh,64,8 set 3'] }, ['tx-csum/*']);
    expect(notPassing(record), stderr).toEqual(['tx-csum/ipv4-tcp fail']);
    for (const m of messagesOf(record, 'tx-csum/ipv4-tcp')) expect(m).toMatch(/IPv4 header checksum 0x[0-9a-f]{4} is wrong, expected/);
  });

  it('a device that loses a quarter of its datagrams fails with the count, whatever bytes did arrive', async () => {
    const { record, stderr } = await runBroken({ side: 'dut', hook: 'egress', rules: ['ip protocol udp numgen inc mod 4 0 drop'] }, [
      'tx-csum/ipv4-udp',
      'tx-csum/ipv6-udp',
    ]);
    expect(notPassing(record), stderr).toEqual(['tx-csum/ipv4-udp fail']);
    for (const m of messagesOf(record, 'tx-csum/ipv4-udp')) expect(m).toMatch(/25 of 100 datagrams never arrived on the wire/);
  });

  it("frames that look right on the wire but never reach the peer's socket do not pass", async () => {
    // The peer's ingress hook runs after its capture saw the frames: a stack that refuses what looks right.
    const { record, stderr } = await runBroken({ side: 'peer', hook: 'ingress', rules: ['ip protocol udp drop'] }, [
      'tx-csum/ipv4-udp',
      'tx-csum/ipv6-udp',
      'tx-csum/generic',
    ]);
    expect(notPassing(record), stderr).toEqual(['tx-csum/generic fail', 'tx-csum/ipv4-udp fail']);
    for (const m of messagesOf(record, 'tx-csum/generic'))
      expect(m).toMatch(/25 datagram\(s\) that arrived were refused by the peer's stack/);
    for (const m of messagesOf(record, 'tx-csum/ipv4-udp')) expect(m).toMatch(/refused by the peer's stack: its socket never got them/);
  });

  it("TCP segments that never reach the peer's socket fail with the exact count, both sockets' counts in the evidence", async () => {
    const { record, stderr } = await runBroken(
      { side: 'peer', hook: 'ingress', rules: ['ip protocol tcp meta length > 200 numgen random mod 3 0 drop'] },
      ['tx-csum/ipv4-tcp', 'tx-csum/ipv6-tcp'],
    );
    expect(notPassing(record), stderr).toEqual(['tx-csum/ipv4-tcp fail']);
    for (const r of record.targets[0]!.results.filter((x) => x.check === 'tx-csum/ipv4-tcp')) {
      const m =
        /(\d+) TCP data segment\(s\) the sender put out never reached the receiving socket \(it got (\d+) of (\d+); \d+ retransmitted/.exec(
          r.message,
        );
      expect(m, r.message).not.toBeNull();
      expect(Number(m![1])).toBe(Number(m![3]) - Number(m![2]));
      expect(r.evidence.retransmits).toMatchObject({ ok: false, bound: 10, segments: { sent: Number(m![3]), received: Number(m![2]) } });
    }
  });

  it('a device that drops 1 in 40 TCP frames fails, though TCP repaired the stream and counted no retransmission', async () => {
    const { record, stderr } = await runBroken(
      { side: 'dut', hook: 'egress', rules: ['meta l4proto tcp meta length > 150 numgen inc mod 40 == 7 drop'] },
      ['tx-csum/ipv4-tcp', 'tx-csum/ipv6-tcp'],
    );
    expect(notPassing(record), stderr).toEqual(['tx-csum/ipv4-tcp fail', 'tx-csum/ipv6-tcp fail']);
    for (const r of record.targets[0]!.results)
      expect(r.message).toMatch(/[1-9]\d* TCP data segment\(s\) the sender put out never reached the receiving socket/);
  });

  it('a device that rewrites TTL, hop limit, DSCP or ECN and fixes the checksums fails the cases whose frames it touched', async () => {
    const { record, exitCode, stderr } = await runBroken(
      {
        side: 'dut',
        hook: 'egress',
        rules: [
          'ip protocol udp ip ttl set 7',
          'ip6 nexthdr tcp ip6 hoplimit set 200',
          'ip protocol tcp ip dscp set cs3',
          'ip6 nexthdr udp ip6 ecn set ce',
        ],
      },
      ['tx-csum/ipv4-udp', 'tx-csum/ipv4-tcp', 'tx-csum/ipv6-udp', 'tx-csum/ipv6-tcp', 'zc/msg-zerocopy'],
    );
    expect(notPassing(record), stderr).toEqual(
      ['tx-csum/ipv4-tcp', 'tx-csum/ipv4-udp', 'tx-csum/ipv6-tcp', 'tx-csum/ipv6-udp', 'zc/msg-zerocopy'].map((c) => `${c} fail`),
    );
    const first = (check: string) => messagesOf(record, check).map((m) => /\(first: capture \d+, frame #\d+: ([^;]*?)\)[;)]/.exec(m)?.[1]);
    expect(first('tx-csum/ipv4-udp')).toEqual(Array(2).fill('IPv4 TTL 7 where the stack wrote 64 (net.ipv4.ip_default_ttl'));
    for (const m of messagesOf(record, 'tx-csum/ipv6-tcp')) expect(m).toMatch(/IPv6 hop limit 200 where the stack wrote 64/);
    for (const m of messagesOf(record, 'tx-csum/ipv4-tcp')) expect(m).toMatch(/IPv4 TOS 0x60: DSCP 24 where the stack wrote 0/);
    for (const m of messagesOf(record, 'tx-csum/ipv6-udp')) expect(m).toMatch(/IPv6 traffic class 0x03: ECN CE/);
    // The bytes themselves were right: the check's own finding is kept beside the header fault.
    for (const m of messagesOf(record, 'tx-csum/ipv4-udp')) expect(m).toMatch(/the check itself: pass: /);
    expect(record.targets[0]!.evidence.stackDefaults).toEqual({ ttl: 64, hopLimit: 64 });
    expect(exitCode).toBe(1);
  });

  it('a sound DUT whose stack writes another TTL and hop limit passes: its own sysctls are what its frames must carry', async () => {
    const pair = await makePortPair('ttl');
    pairs.push(pair);
    await execa('ip', ['netns', 'exec', pair.dutNs, 'sysctl', '-qw', 'net.ipv4.ip_default_ttl=99']);
    await execa('ip', ['netns', 'exec', pair.dutNs, 'sysctl', '-qw', `net.ipv6.conf.${pair.dutIf}.hop_limit=99`]);
    const out = path.join(tmpDir('ttl'), 'run.json');
    const r = await nicmatrix([
      'run',
      '--target',
      pair.spec,
      '--checks',
      'tx-csum/*',
      '--checks',
      'tx-frame/*',
      '--checks',
      'frag/*-send',
      '--out',
      out,
    ]);
    const record = readRecord(out);
    expect(notPassing(record), r.stderr).toEqual([]);
    expect(record.targets[0]!.evidence.stackDefaults).toEqual({ ttl: 99, hopLimit: 99 });
    expect(r.exitCode).toBe(0);
  });

  it('a device that rewrites its source MAC fails the checks, and the link probe still sees it pass traffic (no harness error)', async () => {
    const { record, exitCode, stderr } = await runBroken({ side: 'dut', hook: 'egress', rules: ['ether saddr set 02:11:22:33:44:55'] }, [
      'tx-csum/ipv4-udp',
      'frag/ipv4-send',
    ]);
    expect(notPassing(record), stderr).toEqual(['frag/ipv4-send fail', 'tx-csum/ipv4-udp fail']);
    for (const x of record.targets[0]!.results) {
      expect(x.message).toMatch(/Ethernet source 02:11:22:33:44:55 where the DUT's address [0-9a-f:]{17} was written/);
      expect(x.message).not.toMatch(/stopped passing traffic/);
    }
    expect(exitCode).toBe(1);
  });

  it("a device that sends copies of TCP segments fails, though TCP hides them from the peer's socket", async () => {
    const pair = await makePortPair('txdup');
    pairs.push(pair);
    // A mark keeps the copy from being copied again on its own way out.
    await corruptEgress(pair.dutNs, pair.dutIf, [
      `meta mark != 0x77 meta l4proto tcp meta length > 200 numgen inc mod 9 == 0 meta mark set 0x77 dup to "${pair.dutIf}"`,
    ]);
    const out = path.join(tmpDir('txdup'), 'run.json');
    const r = await nicmatrix(['run', '--target', pair.spec, '--checks', 'tx-csum/ipv4-tcp', '--checks', 'zc/sendfile', '--out', out]);
    const record = readRecord(out);
    expect(notPassing(record), r.stderr).toEqual(['tx-csum/ipv4-tcp fail', 'zc/sendfile fail']);
    for (const m of messagesOf(record, 'tx-csum/ipv4-tcp'))
      expect(m).toMatch(/the device sent \d+ it was not given|\d+ more than the \d+ the sender put out: copies made on the way/);
    for (const m of messagesOf(record, 'zc/sendfile'))
      expect(m).toMatch(
        /the receiving socket got \d+ data segments, \d+ more than the \d+ the sender put out: copies made on the way|the device sent \d+ it was not given/,
      );
    expect(r.exitCode).toBe(1);
  });

  it('a device that sends fragments twice fails frag/*-send (reassembly would hide the copies)', async () => {
    const pair = await makePortPair('fragdup');
    pairs.push(pair);
    await corruptEgress(pair.dutNs, pair.dutIf, [
      `meta mark != 0x77 ip frag-off & 0x3fff != 0 numgen inc mod 7 == 0 meta mark set 0x77 dup to "${pair.dutIf}"`,
      `meta mark != 0x77 ip6 nexthdr ipv6-frag numgen inc mod 7 == 0 meta mark set 0x77 dup to "${pair.dutIf}"`,
    ]);
    const out = path.join(tmpDir('fragdup'), 'run.json');
    const r = await nicmatrix(['run', '--target', pair.spec, '--checks', 'frag/ipv4-send', '--checks', 'frag/ipv6-send', '--out', out]);
    const record = readRecord(out);
    expect(notPassing(record), r.stderr).toEqual(['frag/ipv4-send fail', 'frag/ipv6-send fail']);
    for (const x of record.targets[0]!.results)
      expect(x.message).toMatch(
        /\d+ frame\(s\) reached the wire more than once \(a sender sends each fragment once: the device made copies\); first: fragment ID \d+, offset \d+/,
      );
  });

  it('non-zero padding in short frames fails tx-frame/padding alone; the checksum columns stay clean', async () => {
    const { record, stderr } = await runBroken(
      { side: 'dut', hook: 'egress', rules: ['ip length < 46 meta length 60 @ll,464,8 set 0x55'] },
      ['tx-csum/*', 'tx-frame/*'],
    );
    expect(notPassing(record), stderr).toEqual(['tx-frame/padding fail']);
    for (const m of messagesOf(record, 'tx-frame/padding'))
      expect(m).toMatch(/non-zero padding after the \d+-byte IP packet at byte\(s\) 58:0x55/);
  });
});
