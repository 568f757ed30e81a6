/**
 * A stall is a fail that says where it stalled: a phys: veth pair whose DUT
 * egress is blackholed by an nftables rule half-way through a check. The
 * check's own waits end inside the variant's budget, a call that never ends is
 * cancelled on the agent (its resources closed), the variant after it runs on
 * a quiet link, and a lost agent stays a harness error.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import type { ResultRecord } from '../../matrix/record.js';
import { allChecks } from '../../harness/checks/registry.js';
import type { Check, CheckContext, CheckOutcome } from '../../harness/checks/types.js';
import { cleanup } from '../../harness/sys/cleanup.js';
import { runTarget } from '../../harness/run/target.js';
import { makePortPair, type PortPair } from '../helpers/pair.js';

const pairs: PortPair[] = [];
afterAll(async () => {
  await cleanup.runAll();
  for (const p of pairs) await p.remove();
});

const BUDGET_MS = 12_000;

/** Listener callbacks are synchronous: the fault must be in place (or gone) before the runner goes on. */
function nftSync(netns: string, args: string[], input?: string): void {
  execFileSync('ip', ['netns', 'exec', netns, 'nft', ...args], { input });
}
/** Drops what the DUT sends (by default all but the runner's link probe: the device loses the check's traffic only). */
const blackholeSync = (pair: PortPair, rule = 'udp dport != 49872 drop') =>
  nftSync(
    pair.dutNs,
    ['-f', '-'],
    `table netdev nicmatrix_egress_fault {\n chain egress {\n type filter hook egress device "${pair.dutIf}" priority 0; policy accept;\n ${rule}\n }\n}\n`,
  );
const healSync = (pair: PortPair) => {
  try {
    nftSync(pair.dutNs, ['delete', 'table', 'netdev', 'nicmatrix_egress_fault']);
  } catch {
    // Already healed.
  }
};
const COUNT = 20;

/** Sends COUNT datagrams DUT → peer while the peer captures; `wait` says how the capture ends. */
async function sendRound(
  ctx: CheckContext,
  port: number,
  wait: { expect?: number; timeoutMs?: number; settleMs?: number },
): Promise<number> {
  const { id } = await ctx.dut.run('peer', 'capture.start', { ifname: ctx.link.peer.ifname });
  const payloads = Array.from({ length: COUNT }, (_, i) => Buffer.from(`stall test ${i}`).toString('base64'));
  await ctx.dut.run('dut', 'udp.send', { family: 4, dst: ctx.link.peer.ipv4, sport: port, dport: port, payloads });
  const { frames } = await ctx.dut.run('peer', 'capture.stop', { id, ignoreOutgoing: true, ...wait });
  return frames.filter((f) => Buffer.from(f.data, 'base64').includes(Buffer.from('stall test'))).length;
}

/** A check of this test: one round on a sound link, then the fault, then a second round judged on what arrived. */
function testCheck(id: string, fault: (ctx: CheckContext) => Promise<void>, second: (ctx: CheckContext) => Promise<number>): Check {
  return {
    id,
    family: 'test',
    title: id,
    definition: 'A round on a sound link, the fault, then a second round.',
    proves: 'Nothing: a harness test.',
    variants: () => [{ name: 'blackholed' }, { name: 'healed' }],
    async run(ctx): Promise<CheckOutcome> {
      const first = await sendRound(ctx, 40001, { expect: COUNT, timeoutMs: 5_000, settleMs: 0 });
      if (first < COUNT) return { status: 'fail', message: `first round: ${first} of ${COUNT} arrived`, evidence: {} };
      if (ctx.variant.name === 'blackholed') await fault(ctx);
      const got = await second(ctx);
      return got === COUNT
        ? { status: 'pass', message: `${COUNT} of ${COUNT} arrived twice`, evidence: {} }
        : { status: 'fail', message: `second round: ${got} of ${COUNT} arrived`, evidence: {} };
    },
  };
}

describe('a stall mid-check', () => {
  it('blackholed DUT egress: waits end within the budget (fail), a call that never ends is cancelled and named (fail), the next variant runs clean', async () => {
    const pair = await makePortPair('stall');
    pairs.push(pair);
    const blackhole = async () => blackholeSync(pair);
    const agentStates: unknown[] = [];
    const checks: Check[] = [
      // A round whose wait asks for far more than the budget: the runner shortens it, the check judges what arrived.
      testCheck('test/long-wait', blackhole, (ctx) => sendRound(ctx, 40002, { expect: COUNT, timeoutMs: 600_000, settleMs: 0 })),
      // An action that never ends by itself (a ten-minute settle): the deadline stops it on the agent.
      testCheck('test/hang', blackhole, async (ctx) => {
        if (ctx.variant.name === 'healed') {
          agentStates.push(await ctx.dut.run('peer', 'agent.status', {}));
          return sendRound(ctx, 40003, { expect: COUNT, timeoutMs: 5_000, settleMs: 0 });
        }
        return sendRound(ctx, 40003, { expect: COUNT, timeoutMs: 5_000, settleMs: 600_000 });
      }),
      // The same fault under a real check: a datagram that never arrived is a fail, never an error.
      allChecks().find((c) => c.id === 'tx-csum/ipv4-udp')!,
    ];
    const results: ResultRecord[] = [];
    let tx = 0;
    const target = await runTarget(pair.spec, {
      checks,
      runSeed: 7,
      signal: new AbortController().signal,
      variantTimeoutMs: BUDGET_MS,
      listener: {
        onVariantStart: (_spec, check) => {
          // tx-csum/ipv4-udp: its first variant runs blackholed from the start.
          if (check === 'tx-csum/ipv4-udp' && tx++ === 0) blackholeSync(pair);
        },
        onResult: (_spec, r) => {
          results.push(r);
          if ((r.check === 'tx-csum/ipv4-udp' && tx === 1) || r.variant === 'blackholed') healSync(pair);
        },
      },
    });
    const lines = target.results.map((r) => `${r.check} [${r.variant}] ${r.status}`);
    expect(lines, JSON.stringify(target.results.map((r) => r.message))).toEqual([
      'test/long-wait [blackholed] fail',
      'test/long-wait [healed] pass',
      'test/hang [blackholed] fail',
      'test/hang [healed] pass',
      'tx-csum/ipv4-udp [offload-on] fail',
      'tx-csum/ipv4-udp [offload-off] pass',
    ]);
    const [longWait, , hang] = target.results;
    expect(longWait!.message).toBe(`second round: 0 of ${COUNT} arrived`);
    expect(longWait!.durationMs).toBeLessThan(BUDGET_MS);
    expect(hang!.message).toMatch(
      /^stalled at step 6 \(peer capture\.stop, called at [\d.]+ s\); the last step that answered was step 5 \(dut udp\.send/,
    );
    expect(hang!.message).toMatch(/both agents still answer/);
    expect(hang!.durationMs).toBeLessThan(BUDGET_MS + 8_000);
    // The agent stopped the ten-minute wait and closed the capture the stalled scope had opened.
    expect(hang!.evidence.cancelled).toMatchObject({ peer: { aborted: 1, stillRunning: 0 } });
    expect(agentStates).toEqual([{ inflight: 0, resources: [], inflightByScope: {} }]);
    expect(results.length).toBe(6);
  });

  it('an agent that dies mid-check is a harness error, not a device fail', async () => {
    const pair = await makePortPair('stallk');
    pairs.push(pair);
    const check: Check = {
      id: 'test/agent-dies',
      family: 'test',
      title: 'agent dies',
      definition: 'Kills the agent mid-check.',
      proves: 'Nothing: a harness test.',
      variants: () => [{ name: 'only' }],
      async run(ctx) {
        const { pid } = await ctx.dut.run('peer', 'agent.ping', {});
        const { id } = await ctx.dut.run('peer', 'capture.start', { ifname: ctx.link.peer.ifname });
        process.kill(pid, 'SIGKILL');
        await ctx.dut.run('peer', 'capture.stop', { id, expect: 1, timeoutMs: 60_000 });
        return { status: 'pass', message: 'unreachable', evidence: {} };
      },
    };
    const target = await runTarget(pair.spec, {
      checks: [check],
      runSeed: 7,
      signal: new AbortController().signal,
      variantTimeoutMs: BUDGET_MS,
      listener: {},
    });
    expect(target.results.map((r) => r.status)).toEqual(['error']);
    expect(target.results[0]!.message).toMatch(/agent went away/);
  });
});

describe('a device that stops passing traffic', () => {
  it('is found after the variant that broke it (a fail there), brought back, and the rest of the target is judged', async () => {
    const pair = await makePortPair('lost');
    pairs.push(pair);
    const before = await pair.state();
    const simple = (id: string, act?: () => void): Check => ({
      id,
      family: 'test',
      title: id,
      definition: 'One round of datagrams.',
      proves: 'Nothing: a harness test.',
      variants: () => [{ name: 'only' }],
      async run(ctx) {
        const got = await sendRound(ctx, 40010, { expect: COUNT, timeoutMs: 5_000, settleMs: 0 });
        act?.();
        return got === COUNT
          ? { status: 'pass', message: 'all arrived', evidence: {} }
          : { status: 'fail', message: `${got} arrived`, evidence: {} };
      },
    });
    const checks = [
      simple('test/before'),
      // The port goes down behind the harness's back once the check has judged: the device "died" under it.
      simple('test/breaks-it', () => execFileSync('ip', ['-n', pair.dutNs, 'link', 'set', pair.dutIf, 'down'])),
      simple('test/after'),
      // A fault that setting the port down and up does not clear: the rest of the target is not judged on a dead link.
      simple('test/blackholes-it', () => blackholeSync(pair, 'drop')),
      simple('test/never-runs'),
    ];
    const target = await runTarget(pair.spec, { checks, runSeed: 7, signal: new AbortController().signal, listener: {} });
    healSync(pair);
    expect(target.results.map((r) => `${r.check} ${r.status}`)).toEqual([
      'test/before pass',
      'test/breaks-it fail',
      'test/after pass',
      'test/blackholes-it fail',
      'test/never-runs error',
    ]);
    expect(target.results[1]!.message).toMatch(
      /^after this variant the device stopped passing traffic \(DUT → peer and peer → DUT: no datagram arrived in 3 tries\); the interface was set down and up, which brought the link back; the variant itself: pass/,
    );
    expect(target.results[3]!.message).toMatch(
      /DUT → peer: no datagram arrived in 3 tries\); the interface was set down and up did not bring it back/,
    );
    expect(target.results[4]!.message).toMatch(/the link passes no traffic since test\/blackholes-it \[only\]/);
    expect(await pair.state()).toEqual(before);
  });
});
