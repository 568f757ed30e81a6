/** Runs every selected check on one target: start, collect, variants, restore, stop. */
import { createDut } from '../../drivers/index.js';
import { findQemuModel } from '../../drivers/qemu/catalogue.js';
import { parseTargetSpec } from '../../drivers/spec.js';
import type { Dut, TargetSpec } from '../../drivers/types.js';
import type { FeatureSnapshot, ResultRecord, TargetRecord } from '../../matrix/record.js';
import type { Check } from '../checks/types.js';
import { cleanup } from '../sys/cleanup.js';
import { describeError, errorCode, NicmatrixError } from '../codec/errors.js';
import { restoreSettings } from './features.js';
import type { RunListener } from './listener.js';
import { combineAttempts, wantsAnotherAttempt } from './attempts.js';
import { linkReady } from '../checks/link-ready.js';
import { headerIntent, readStackDefaults } from './stack-defaults.js';
import { probeLink } from './probe.js';
import { guestLostFinding, linkLostFinding, type Recovery } from './stall.js';
import { attemptSeed, deriveSeed, groupByFeatures, type PlannedVariant } from './plan.js';
import { type AppliedFeatures, applyFeatures, type Counters, runVariant } from './variant.js';

export interface TargetRunOptions {
  checks: readonly Check[];
  runSeed: number;
  signal: AbortSignal;
  listener: RunListener;
  pcapDir?: string;
  recordDir?: string;
  /** Budget of one check variant (default VARIANT_TIMEOUT_MS). */
  variantTimeoutMs?: number;
  /** Attempts of every variant (default 1), and extra attempts of one that failed (default 0). */
  repeat?: number;
  retryFailed?: number;
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

/** What the spec alone says of the device, until the DUT reports it: a target that fails to start is still named. */
function deviceFromSpec(parsed: TargetSpec): TargetRecord['device'] {
  if (parsed.kind !== 'qemu') return { description: parsed.spec };
  return { model: parsed.model, description: findQemuModel(parsed.model)?.description ?? parsed.spec };
}

/** An `error` verdict for what never ran because the target failed or the run stopped. */
function notRun(check: string, variant: string, message: string, code: string): ResultRecord {
  return { check, variant, status: 'error', durationMs: 0, message, evidence: { errorCode: code } };
}

/** Restarts of a guest that stopped answering, per target, before the target is given up as broken. */
const MAX_GUEST_RESTARTS = 2;

export async function runTarget(spec: string, opts: TargetRunOptions): Promise<TargetRecord> {
  const record = emptyTarget(spec);
  const { listener, signal } = opts;
  // Results by their place in check order, whatever order the plan runs them in.
  const results: (ResultRecord | undefined)[] = [];
  const planned: (PlannedVariant | undefined)[] = [];
  const timing = {
    setupMs: 0,
    configureMs: 0,
    linkWaitMs: 0,
    checksMs: 0,
    agentMs: 0,
    probeMs: 0,
    recoveries: 0,
    guestRestarts: 0,
    featureSets: 0,
  };
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
    record.device = deviceFromSpec(parsed);
    // A QEMU model's catalogue says which driver binds it: a target that cannot be set up still shows on that device's row.
    if (parsed.kind === 'qemu') record.driver.name = findQemuModel(parsed.model)?.driver ?? '';
    dut = await createDut(parsed);
    let link = await dut.start(signal);
    const running = dut;
    let stack = await readStackDefaults(running, link, signal);
    /** The interface down and up (the driver resets the device), then whether traffic passes; failing is an answer too. */
    const reup = async (): Promise<{ ok: boolean; detail?: string }> => {
      try {
        await running.run('dut', 'link.reup', { ifname: link.dut.ifname });
        await linkReady(running, link.dut.ifname, signal, (l) => listener.onLog?.(spec, l));
        const again = await probeLink(running, link, signal);
        return { ok: again.ok, detail: again.error };
      } catch (e) {
        return { ok: false, detail: describeError(e) };
      }
    };
    /**
     * Brings a link back: a hung guest is restarted; a link that passes no traffic is set down and up first (a device
     * the driver's reset revives says more, and costs less, than a new guest), then, on QEMU, the guest is restarted.
     */
    const recover = async (why: string | undefined, guestHung: boolean): Promise<Recovery> => {
      let how = 'the interface was set down and up';
      try {
        if (!guestHung) {
          const r = await reup();
          if (r.ok || record.kind !== 'qemu') return { how, ok: r.ok, detail: r.ok ? undefined : (r.detail ?? why) };
        }
        how = guestHung ? 'the guest was restarted' : `${how}, which did not bring it back, then the guest was restarted`;
        await running.stop();
        link = await running.start(signal);
        linkIf = link.dut.ifname;
        stack = await readStackDefaults(running, link, signal);
        const again = await probeLink(running, link, signal);
        return { how, ok: again.ok, detail: again.ok ? undefined : (again.error ?? why) };
      } catch (e) {
        return { how, ok: false, detail: describeError(e) };
      }
    };
    linkIf = link.dut.ifname;
    const facts = await dut.collect();
    Object.assign(record, {
      kind: facts.kind,
      device: facts.device,
      driver: facts.driver,
      kernel: facts.kernel,
      features: facts.features,
      dimensions: facts.dimensions,
      evidence: { ...facts.evidence, stackDefaults: stack },
    });
    original = facts.features;
    listener.onTargetReady?.(spec, record, Date.now() - started);
    timing.setupMs = Date.now() - started;
    const groups = groupByFeatures(opts.checks.map((check) => ({ check, variants: check.variants(link, facts.features) })));
    for (const g of groups) for (const item of g.items) planned[item.index] = item;
    timing.featureSets = groups.length;
    const counters: { last?: Counters } = {};
    for (const group of groups) {
      if (signal.aborted) throw signal.reason;
      let applied: AppliedFeatures | undefined;
      const groupLog = (line: string) => listener.onLog?.(spec, `features ${JSON.stringify(group.features ?? {})}: ${line}`);
      try {
        applied = await applyFeatures({ dut, link, signal, log: groupLog }, group.features);
        // A feature change may reset the device (and its counters): the next variant reads afresh.
        if (applied.changed) counters.last = undefined;
        timing.configureMs += applied.configureMs;
        timing.linkWaitMs += applied.linkWaitMs;
      } catch (e) {
        counters.last = undefined;
        // Each variant of the group then tries on its own and records why it could not.
        groupLog(`could not be applied: ${describeError(e)}`);
      }
      for (const { index, check, variant } of group.items) {
        if (signal.aborted) throw signal.reason;
        listener.onVariantStart?.(spec, check.id, variant.name);
        const seed = deriveSeed(opts.runSeed, spec, check.id, variant.name);
        const log = (line: string) => listener.onLog?.(spec, `${check.id} [${variant.name}] ${line}`);
        const t0 = Date.now();
        const attempts: ResultRecord[] = [];
        while (wantsAnotherAttempt(attempts, Math.max(1, opts.repeat ?? 1), opts.retryFailed ?? 0) && !signal.aborted) {
          attempts.push(
            await runVariant(
              {
                dut,
                link,
                spec,
                seed: attemptSeed(seed, attempts.length),
                signal,
                headers: headerIntent(link, stack),
                pcapDir: opts.pcapDir,
                recordDir: opts.recordDir,
                timeoutMs: opts.variantTimeoutMs,
                counters,
                log,
              },
              check,
              variant,
              applied,
            ),
          );
        }
        let result = combineAttempts(attempts);
        timing.checksMs += Date.now() - t0;
        const t1 = Date.now();
        const probe = await probeLink(dut, link, signal);
        timing.probeMs += Date.now() - t1;
        if (probe.error !== undefined && !signal.aborted) {
          // The probe could not run at all: an agent is gone. A hung guest is restarted (a bounded number of times) and
          // the target goes on; anything else, or once too often, ends the target, which no verdict on the device may hide.
          // Only a hang: a QEMU that died (killed, crashed) ends the target, as it says. A guest agent that still answers
          // but let the probe's action time out is stuck as surely (seen on the sparc64 guest under load): restarted too.
          const hung = probe.guestHung || (record.kind === 'qemu' && probe.errorCode === 'TIMEOUT');
          const recovery = hung && timing.guestRestarts < MAX_GUEST_RESTARTS ? await recover(probe.error, true) : undefined;
          if (recovery) {
            timing.guestRestarts++;
            result = guestLostFinding(result, probe.error, recovery);
            counters.last = undefined;
          }
          if (!recovery?.ok) {
            results[index] = result;
            listener.onResult?.(spec, result);
            const tried = recovery ? `; ${recovery.how} did not bring it back: ${recovery.detail ?? 'no detail'}` : '';
            throw new NicmatrixError(
              'AGENT',
              `${spec}: the link probe after ${check.id} [${variant.name}] could not run: ${probe.error}${tried}`,
            );
          }
          if (group.features) applied = await applyFeatures({ dut, link, signal, log: groupLog }, group.features);
        } else if (!probe.ok && !signal.aborted) {
          const recovery = await recover(probe.error, false);
          result = linkLostFinding(result, probe, recovery);
          timing.recoveries++;
          counters.last = undefined;
          if (!recovery.ok) {
            results[index] = result;
            listener.onResult?.(spec, result);
            throw new NicmatrixError(
              'TARGET_SETUP',
              `${spec}: the link passes no traffic since ${check.id} [${variant.name}], and ${recovery.how} did not bring it back`,
            );
          }
          if (group.features) applied = await applyFeatures({ dut, link, signal, log: groupLog }, group.features);
        }
        timing.agentMs += (result.evidence.timing as { agentMs?: number } | undefined)?.agentMs ?? 0;
        // Only the first variant of a group paid for the change; the others ran on the same state.
        if (applied) applied = { ...applied, changed: false, configureMs: 0, linkWaitMs: 0 };
        results[index] = result;
        listener.onResult?.(spec, result);
      }
    }
  } catch (e) {
    const message = signal.aborted ? `not run: ${describeError(signal.reason)}` : `target could not be set up: ${describeError(e)}`;
    if (!signal.aborted) record.setupError = { code: errorCode(e), message: describeError(e) };
    const code = signal.aborted ? 'INTERRUPTED' : errorCode(e);
    // Before the plan there are only checks; after it, every planned variant that has no verdict yet.
    const missing =
      planned.length === 0
        ? opts.checks.map((c, i) => ({ i, r: notRun(c.id, 'all', message, code) }))
        : planned.flatMap((p, i) => (p && !results[i] ? [{ i, r: notRun(p.check.id, p.variant.name, message, code) }] : []));
    listener.onTargetFailed?.(spec, { code, message, notRun: missing.length });
    for (const { i, r } of missing) {
      results[i] = r;
      listener.onResult?.(spec, r);
    }
    // What the failure carried (a guest's console tail, the failing command) is the target's evidence.
    if (e instanceof NicmatrixError) record.evidence = { ...record.evidence, ...e.details };
  } finally {
    record.results.push(...results.filter((r): r is ResultRecord => r !== undefined));
    const t0 = Date.now();
    await restore.run();
    timing.configureMs += Date.now() - t0;
    if (dut) await dut.stop();
  }
  record.evidence = { ...record.evidence, timing: { ...timing, totalMs: Date.now() - started } };
  listener.onTargetEnd?.(spec, record);
  return record;
}
