/** Runs one check in one variant on a started target and turns what happened into a result. */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Dut, LinkInfo } from '../../drivers/types.js';
import type { Evidence, FeatureSnapshot, ResultRecord } from '../../matrix/record.js';
import { withTimeout } from '../agent/client.js';
import type { CapturedFrame } from '../agent/protocol.js';
import type { Check, CheckOutcome, Variant } from '../checks/types.js';
import { describeError, errorCode } from '../errors.js';
import { pcapFile } from '../pcap.js';
import { counterDelta } from '../../drivers/ethtool.js';
import { unmetFeatures } from './features.js';
import { linkReady } from './link-ready.js';
import { safeName } from './record-file.js';

/** Longest a single check × variant may run before it is an `error`. */
export const VARIANT_TIMEOUT_MS = 180_000;

export interface VariantEnv {
  dut: Dut;
  link: LinkInfo;
  spec: string;
  seed: number;
  signal: AbortSignal;
  /** Directory for pcaps, and the directory the record's relative paths start from. */
  pcapDir?: string;
  recordDir?: string;
  log(line: string): void;
}

type Counters = { dut: Record<string, number>; peer: Record<string, number>; driver: Record<string, number> };

async function readCounters(env: VariantEnv): Promise<Counters> {
  const [dut, peer, driver] = await Promise.all([
    env.dut.run('dut', 'nstat.read', {}),
    env.link.sameInterface ? Promise.resolve({}) : env.dut.run('peer', 'nstat.read', {}),
    env.dut.run('dut', 'ethtool.stats', { ifname: env.link.dut.ifname }),
  ]);
  return { dut, peer, driver };
}

export async function runVariant(env: VariantEnv, check: Check, variant: Variant): Promise<ResultRecord> {
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
    const ifname = env.link.dut.ifname;
    features = variant.features
      ? await env.dut.run('dut', 'ethtool.setFeatures', { ifname, features: variant.features })
      : await env.dut.run('dut', 'ethtool.features', { ifname });
    if (variant.features) {
      unmet = unmetFeatures(variant.features, features, variant.optional);
      linkWaitMs = await linkReady(env.dut, ifname, env.signal, env.log);
    }
  } catch (e) {
    return result({
      status: 'error',
      message: `could not configure the DUT for ${variant.name}: ${describeError(e)}`,
      evidence: { seed: env.seed, errorCode: errorCode(e) },
    });
  }
  let outcome: CheckOutcome;
  let before: Counters | undefined;
  try {
    before = await readCounters(env);
    const ctx = {
      link: env.link,
      dut: env.dut,
      variant,
      features,
      seed: env.seed,
      signal: env.signal,
      log: env.log,
      writePcap: (name: string, frames: CapturedFrame[]) => writePcap(env, `${check.id}-${variant.name}-${name}`, frames),
    };
    outcome = await withTimeout(
      check.run(ctx),
      VARIANT_TIMEOUT_MS,
      env.signal,
      () => `${check.id} [${variant.name}] did not finish within ${VARIANT_TIMEOUT_MS / 1000} s`,
    );
  } catch (e) {
    outcome = { status: 'error', message: describeError(e), evidence: { errorCode: errorCode(e) } };
  }
  const evidence: Evidence = { ...outcome.evidence, seed: env.seed, features };
  if (linkWaitMs > 0) evidence.linkWaitMs = linkWaitMs;
  if (before) {
    try {
      const after = await readCounters(env);
      evidence.counters = {
        nstat: counterDelta(before.dut, after.dut),
        ethtool: counterDelta(before.driver, after.driver),
        peerNstat: counterDelta(before.peer, after.peer),
      };
    } catch (e) {
      evidence.countersError = describeError(e);
    }
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

async function writePcap(env: VariantEnv, name: string, frames: CapturedFrame[]): Promise<string | undefined> {
  if (!env.pcapDir || frames.length === 0) return undefined;
  const file = path.join(env.pcapDir, `${safeName(env.spec)}__${safeName(name)}.pcap`);
  await fs.mkdir(env.pcapDir, { recursive: true });
  await fs.writeFile(file, pcapFile(frames.map((f) => ({ data: Buffer.from(f.data, 'base64'), tsNs: f.tsNs, origLen: f.len }))));
  return path.relative(env.recordDir ?? process.cwd(), file);
}
