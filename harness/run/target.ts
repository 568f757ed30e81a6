/** Runs every selected check on one target: start, collect, variants, restore, stop. */
import { createDut } from '../../drivers/index.js';
import { parseTargetSpec } from '../../drivers/spec.js';
import type { Dut } from '../../drivers/types.js';
import type { FeatureSnapshot, ResultRecord, TargetRecord } from '../../matrix/record.js';
import type { Check } from '../checks/types.js';
import { cleanup } from '../cleanup.js';
import { describeError, errorCode, NicmatrixError } from '../errors.js';
import { restoreSettings } from './features.js';
import type { RunListener } from './listener.js';
import { deriveSeed } from './plan.js';
import { runVariant } from './variant.js';

export interface TargetRunOptions {
  checks: readonly Check[];
  runSeed: number;
  signal: AbortSignal;
  listener: RunListener;
  pcapDir?: string;
  recordDir?: string;
  /** Budget of one check variant (default VARIANT_TIMEOUT_MS). */
  variantTimeoutMs?: number;
}

function emptyTarget(spec: string): TargetRecord {
  return {
    spec,
    kind: 'lo',
    device: { description: '' },
    driver: { name: '', version: '', firmware: '', bus: '' },
    kernel: '',
    features: {},
    dimensions: {},
    evidence: {},
    results: [],
  };
}

/** `error` verdicts for checks that never ran because the target failed or the run stopped. */
function errorResults(checks: readonly Check[], done: Set<string>, message: string, code: string): ResultRecord[] {
  return checks
    .filter((c) => !done.has(c.id))
    .map((c) => ({ check: c.id, variant: 'all', status: 'error' as const, durationMs: 0, message, evidence: { errorCode: code } }));
}

export async function runTarget(spec: string, opts: TargetRunOptions): Promise<TargetRecord> {
  const record = emptyTarget(spec);
  const { listener, signal } = opts;
  const done = new Set<string>();
  let dut: Dut | undefined;
  let original: FeatureSnapshot | undefined;
  const started = Date.now();
  listener.onTargetStart?.(spec);
  // Registered before any feature changes, so an interrupt still puts offloads back.
  const restore = cleanup.register(`restore offloads of ${spec}`, async () => {
    if (!dut || !original || !record.features) return;
    const ifname = linkIf;
    const now = await dut.run('dut', 'ethtool.features', { ifname });
    const settings = restoreSettings(original, now);
    if (Object.keys(settings).length > 0) await dut.run('dut', 'ethtool.setFeatures', { ifname, features: settings });
  });
  let linkIf = '';
  try {
    const parsed = parseTargetSpec(spec);
    record.kind = parsed.kind;
    dut = await createDut(parsed);
    const link = await dut.start(signal);
    linkIf = link.dut.ifname;
    const facts = await dut.collect();
    Object.assign(record, {
      kind: facts.kind,
      device: facts.device,
      driver: facts.driver,
      kernel: facts.kernel,
      features: facts.features,
      dimensions: facts.dimensions,
      evidence: facts.evidence,
    });
    original = facts.features;
    listener.onTargetReady?.(spec, record, Date.now() - started);
    for (const check of opts.checks) {
      for (const variant of check.variants(link, facts.features)) {
        if (signal.aborted) throw signal.reason;
        listener.onVariantStart?.(spec, check.id, variant.name);
        const seed = deriveSeed(opts.runSeed, spec, check.id, variant.name);
        const log = (line: string) => listener.onLog?.(spec, `${check.id} [${variant.name}] ${line}`);
        const result = await runVariant(
          { dut, link, spec, seed, signal, pcapDir: opts.pcapDir, recordDir: opts.recordDir, timeoutMs: opts.variantTimeoutMs, log },
          check,
          variant,
        );
        record.results.push(result);
        listener.onResult?.(spec, result);
      }
      done.add(check.id);
    }
  } catch (e) {
    const message = signal.aborted ? `not run: ${describeError(signal.reason)}` : `target could not be set up: ${describeError(e)}`;
    if (!signal.aborted) record.setupError = { code: errorCode(e), message: describeError(e) };
    for (const r of errorResults(opts.checks, done, message, signal.aborted ? 'INTERRUPTED' : errorCode(e))) {
      record.results.push(r);
      listener.onResult?.(spec, r);
    }
    // What the failure carried (a guest's console tail, the failing command) is the target's evidence.
    if (e instanceof NicmatrixError) record.evidence = { ...record.evidence, ...e.details };
  } finally {
    await restore.run();
    if (dut) await dut.stop();
  }
  listener.onTargetEnd?.(spec, record);
  return record;
}
