/** Runs one check in one variant on a started target and turns what happened into a result. */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Dut, LinkInfo } from '../../drivers/types.js';
import type { Evidence, FeatureSnapshot, ResultRecord } from '../../matrix/record.js';
import type { CapturedFrame } from '../agent/protocol.js';
import { CANCEL_DRAIN_MS } from '../agent/server.js';
import { judgeCaptures, withHeaderFaults, type HeaderIntent } from '../checks/header-intent.js';
import type { Check, CheckOutcome, Variant } from '../checks/types.js';
import { judgeTcpCopies, withTcpCopies } from '../checks/wire-copies.js';
import { decodeCapture } from '../checks/wire.js';
import { linkEnds } from './stack-defaults.js';
import { describeError, errorCode, NicmatrixError } from '../codec/errors.js';
import { pcapFile } from '../codec/pcap.js';
import { counterDelta } from '../agent/ethtool.js';
import { unmetFeatures } from './features.js';
import { linkReady } from '../checks/link-ready.js';
import { safeName } from './record-file.js';
import { judgeStall, stalledStep } from './stall.js';
import { VariantDut } from './variant-dut.js';

/** Longest a single check × variant may run; at the deadline it is stopped and judged as a stall. */
export const VARIANT_TIMEOUT_MS = 180_000;
/** Kept back from the budget: every agent call has answered this long before the deadline, so the check can judge. */
const JUDGE_RESERVE_MS = 3_000;
/** How long an agent gets to answer the ping that tells a stalled device from a lost agent. */
const PING_MS = 5_000;

let scopes = 0;

export interface VariantEnv {
  dut: Dut;
  link: LinkInfo;
  spec: string;
  seed: number;
  signal: AbortSignal;
  /** What the DUT's stack writes into its frames' headers: every peer capture is judged against it (absent: not judged). */
  headers?: HeaderIntent;
  /** Directory for pcaps, and the directory the record's relative paths start from. */
  pcapDir?: string;
  recordDir?: string;
  /** The variant's budget (default VARIANT_TIMEOUT_MS). */
  timeoutMs?: number;
  /**
   * The counters the previous variant read when it ended, when nothing touched the DUT since:
   * they are this variant's starting point (one reading instead of two). Updated here.
   */
  counters?: { last?: Counters };
  log(line: string): void;
}

export type Counters = { dut: Record<string, number>; peer: Record<string, number>; driver: Record<string, number> };

async function readCounters(env: VariantEnv): Promise<Counters> {
  const [dut, peer, driver] = await Promise.all([
    env.dut.run('dut', 'nstat.read', {}),
    env.link.sameInterface ? Promise.resolve({}) : env.dut.run('peer', 'nstat.read', {}),
    env.dut.run('dut', 'ethtool.stats', { ifname: env.link.dut.ifname }),
  ]);
  return { dut, peer, driver };
}

/** The DUT's features as a group of variants runs them, and what applying them cost. */
export interface AppliedFeatures {
  features: FeatureSnapshot;
  /** Whether anything was changed (then the link was waited for). */
  changed: boolean;
  /** Time spent setting features and waiting for the link. */
  configureMs: number;
  linkWaitMs: number;
}

/**
 * Sets `wanted` on the DUT when it is not already so (a feature that is
 * `[fixed]` is left alone) and waits for the link once; nothing is touched
 * when the DUT already has the set, so a driver that resets on every change
 * resets once per distinct set.
 */
export async function applyFeatures(
  env: Pick<VariantEnv, 'dut' | 'link' | 'signal' | 'log'>,
  wanted: Record<string, boolean> | undefined,
): Promise<AppliedFeatures> {
  const t0 = Date.now();
  const ifname = env.link.dut.ifname;
  const current = await env.dut.run('dut', 'ethtool.features', { ifname });
  const change = Object.fromEntries(
    Object.entries(wanted ?? {}).filter(([name, want]) => !current[name] || (current[name].active !== want && !current[name].fixed)),
  );
  if (Object.keys(change).length === 0) return { features: current, changed: false, configureMs: Date.now() - t0, linkWaitMs: 0 };
  const features = await env.dut.run('dut', 'ethtool.setFeatures', { ifname, features: change });
  const linkWaitMs = await linkReady(env.dut, ifname, env.signal, env.log);
  return { features, changed: true, configureMs: Date.now() - t0, linkWaitMs };
}

/** Runs one variant; `applied` is its group's feature state (applied here when not given). */
export async function runVariant(env: VariantEnv, check: Check, variant: Variant, applied?: AppliedFeatures): Promise<ResultRecord> {
  const started = Date.now();
  const result = (o: CheckOutcome): ResultRecord => ({
    check: check.id,
    variant: variant.name,
    status: o.status,
    durationMs: Date.now() - started,
    message: o.message,
    evidence: o.evidence,
  });
  let features: FeatureSnapshot;
  let unmet: string[] = [];
  let linkWaitMs = 0;
  try {
    applied ??= await applyFeatures(env, variant.features);
    features = applied.features;
    linkWaitMs = applied.linkWaitMs;
    if (variant.features) unmet = unmetFeatures(variant.features, features, variant.optional);
  } catch (e) {
    return result({
      status: 'error',
      message: `could not configure the DUT for ${variant.name}: ${describeError(e)}`,
      evidence: { seed: env.seed, errorCode: errorCode(e) },
    });
  }
  let outcome: CheckOutcome;
  let before: Counters | undefined;
  const budgetMs = env.timeoutMs ?? VARIANT_TIMEOUT_MS;
  const stop = new AbortController();
  const signal = AbortSignal.any([env.signal, stop.signal]);
  const checkStart = Date.now();
  const vdut = new VariantDut(env.dut, signal, checkStart + budgetMs - JUDGE_RESERVE_MS, `${check.id}#${variant.name}#${++scopes}`);
  const timer = setTimeout(
    () => stop.abort(new NicmatrixError('TIMEOUT', `${check.id} [${variant.name}] did not finish within ${budgetMs / 1000} s`)),
    budgetMs,
  );
  try {
    before = env.counters?.last ?? (await readCounters(env));
    if (env.counters) env.counters.last = undefined;
    const ctx = {
      link: env.link,
      dut: vdut,
      variant,
      features,
      seed: env.seed,
      signal,
      log: env.log,
      writePcap: (name: string, frames: CapturedFrame[]) => writePcap(env, `${check.id}-${variant.name}-${name}`, frames),
    };
    const run = check.run(ctx);
    // The check is stopped at its deadline: its in-flight calls reject at once, the ones it would make next are refused.
    outcome = await Promise.race([
      run,
      new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true })),
    ]);
    run.catch(() => undefined);
  } catch (e) {
    outcome = { status: 'error', message: describeError(e), evidence: { errorCode: errorCode(e) } };
  } finally {
    clearTimeout(timer);
  }
  const timing = { checkMs: Date.now() - checkStart, agentMs: vdut.busyMs() };
  const timedOut = stop.signal.aborted || vdut.steps.some((st) => st.code === 'TIMEOUT');
  let cancelled: Evidence | undefined;
  if (!env.signal.aborted && (timedOut || vdut.steps.some((st) => st.error !== undefined))) {
    // Nothing of this variant may keep driving the link while the next one changes the DUT's features.
    cancelled = await cancelScope(env, vdut.scope);
  }
  if (timedOut && !env.signal.aborted && outcome.status === 'error') {
    const { stalled, lastDone } = stalledStep(vdut.steps);
    const answers = await pingAgents(env);
    const verdict = judgeStall({ budgetMs, stalled, lastDone, answers, sameAgent: env.link.sameInterface });
    outcome = {
      status: verdict.status,
      message: verdict.message,
      evidence: {
        ...outcome.evidence,
        stall: { lastSteps: vdut.steps.slice(-8), agentsAnswer: answers, checkError: outcome.message, budgetMs },
      },
    };
  }
  if (cancelled) outcome.evidence = { ...outcome.evidence, cancelled };
  // What the peer captured, decoded once for the runner's own rules; on one shared interface no device carries it.
  const wire = env.link.sameInterface ? undefined : vdut.peerCaptures.map((c) => decodeCapture(c));
  // Checks that send hand-made frames compare every byte of them: the stack's headers are not theirs to judge.
  if (wire && env.headers && !check.craftsDutFrames) outcome = withHeaderFaults(outcome, judgeCaptures(wire, env.headers), env.headers);
  let evidence: Evidence = { ...outcome.evidence, seed: env.seed, features, timing };
  if (linkWaitMs > 0) evidence.linkWaitMs = linkWaitMs;
  if (before) {
    try {
      const after = await readCounters(env);
      // A stopped variant may have left traffic behind: the next one reads its own starting point.
      if (env.counters) env.counters.last = cancelled ? undefined : after;
      evidence.counters = {
        nstat: counterDelta(before.dut, after.dut),
        ethtool: counterDelta(before.driver, after.driver),
        peerNstat: counterDelta(before.peer, after.peer),
      };
    } catch (e) {
      evidence.countersError = describeError(e);
    }
  }
  if (wire && evidence.counters?.nstat) {
    const copies = judgeTcpCopies(wire, { ...linkEnds(env.link), mtu: env.link.dut.mtu }, evidence.counters.nstat);
    outcome = withTcpCopies({ ...outcome, evidence }, copies);
    evidence = outcome.evidence;
  }
  if (unmet.length > 0 && outcome.status === 'pass') {
    // The hardware path could not be selected; what ran was the software fallback, and it was right.
    return result({
      status: 'unsupported',
      message: `${unmet.join('; ')}; software fallback verified: ${outcome.message}`,
      evidence: { ...evidence, unmetFeatures: unmet },
    });
  }
  if (unmet.length > 0) evidence.unmetFeatures = unmet;
  return result({ ...outcome, evidence });
}

/** Tells both agents to stop what the variant's scope still runs and close what it opened. */
async function cancelScope(env: VariantEnv, scope: string): Promise<Evidence> {
  const sides = env.link.sameInterface ? (['dut'] as const) : (['dut', 'peer'] as const);
  const out: Evidence = {};
  await Promise.all(
    sides.map(async (side) => {
      try {
        const r = await env.dut.run(side, 'agent.cancel', { scope }, { timeoutMs: CANCEL_DRAIN_MS + 10_000 });
        out[side] = r;
        if (r.stillRunning > 0)
          env.log(`${side}: ${r.stillRunning} action(s) of the stopped variant still run after ${CANCEL_DRAIN_MS / 1000} s`);
      } catch (e) {
        out[side] = { error: describeError(e) };
      }
    }),
  );
  return out;
}

/** Whether each side's agent still answers: a stalled device leaves them answering, a lost agent does not. */
async function pingAgents(env: VariantEnv): Promise<Record<'dut' | 'peer', boolean>> {
  const ping = (side: 'dut' | 'peer') =>
    env.dut.run(side, 'agent.ping', {}, { timeoutMs: PING_MS }).then(
      () => true,
      () => false,
    );
  const [dut, peer] = await Promise.all([ping('dut'), env.link.sameInterface ? Promise.resolve(true) : ping('peer')]);
  return { dut, peer: env.link.sameInterface ? dut : peer };
}

async function writePcap(env: VariantEnv, name: string, frames: CapturedFrame[]): Promise<string | undefined> {
  if (!env.pcapDir || frames.length === 0) return undefined;
  const file = path.join(env.pcapDir, `${safeName(env.spec)}__${safeName(name)}.pcap`);
  await fs.mkdir(env.pcapDir, { recursive: true });
  await fs.writeFile(file, pcapFile(frames.map((f) => ({ data: Buffer.from(f.data, 'base64'), tsNs: f.tsNs, origLen: f.len }))));
  return path.relative(env.recordDir ?? process.cwd(), file);
}
