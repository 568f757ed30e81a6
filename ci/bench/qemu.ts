/**
 * QEMU guests: image preparation, launch-to-agent-ready per model (target
 * < 10 s under TCG on 2 cores), and the wall time of every model × `tx-csum/*`
 * through the real runner with two jobs (target < 5 min).
 */
import { allChecks } from '../../harness/checks/registry.js';
import { selectChecks } from '../../harness/run/plan.js';
import { runMatrix } from '../../harness/run/runner.js';
import { describeError } from '../../harness/codec/errors.js';
import { chooseAccel } from '../../drivers/qemu/accel.js';
import { QEMU_MODELS } from '../../drivers/qemu/catalogue.js';
import { QemuDut } from '../../drivers/qemu/dut.js';
import { ensureGuestImage } from '../../drivers/qemu/image.js';
import { qemuVersion } from '../../drivers/qemu/targets.js';

/** Boots one guest; the boot time is measured by QemuDut (QEMU launch to the agent's hello). */
async function bootOnce(model: string): Promise<Record<string, unknown>> {
  const dut = new QemuDut({ kind: 'qemu', spec: `qemu:${model}`, model, options: {} });
  const t0 = Date.now();
  try {
    await dut.start(new AbortController().signal);
    const startMs = Date.now() - t0;
    const facts = await dut.collect();
    return {
      bootMs: facts.evidence.bootMs,
      startMs,
      driver: facts.driver.name,
      accel: facts.dimensions.accel,
      catalogueMismatches: facts.evidence.catalogueMismatches,
    };
  } catch (e) {
    return { error: describeError(e) };
  } finally {
    await dut.stop();
  }
}

export async function benchQemu(): Promise<Record<string, unknown>> {
  const t0 = Date.now();
  const image = await ensureGuestImage();
  const imageMs = Date.now() - t0;
  const t1 = Date.now();
  const accel = await chooseAccel('auto', image);
  const accelProbeMs = Date.now() - t1;

  const boots: Record<string, unknown> = {};
  for (const m of QEMU_MODELS) {
    boots[m.model] = await bootOnce(m.model);
    process.stderr.write(`bench: qemu boot ${m.model}: ${JSON.stringify(boots[m.model])}\n`);
  }
  const bootTimes = Object.values(boots)
    .map((b) => (b as { bootMs?: number }).bootMs)
    .filter((n): n is number => typeof n === 'number');

  const { checks } = selectChecks(allChecks(), ['tx-csum/*']);
  const targets = QEMU_MODELS.map((m) => `qemu:${m.model}`);
  const t2 = Date.now();
  const record = await runMatrix({
    targets,
    checks,
    checkGlobs: ['tx-csum/*'],
    seed: 1,
    jobs: 2,
    argv: [],
    signal: new AbortController().signal,
  });
  const matrixWallMs = Date.now() - t2;
  const perTarget = Object.fromEntries(
    record.targets.map((t) => [
      t.spec,
      {
        driver: t.driver.name,
        setupError: t.setupError?.message,
        statuses: Object.fromEntries(
          ['pass', 'fail', 'unsupported', 'skip', 'error'].map((s) => [s, t.results.filter((r) => r.status === s).length]),
        ),
        failed: t.results.filter((r) => r.status === 'fail' || r.status === 'error').map((r) => `${r.check} [${r.variant}] ${r.status}`),
      },
    ]),
  );

  return {
    qemu: await qemuVersion(),
    image: { source: image.source, release: image.release, kernel: image.kernel, initrd: image.initrd, prepareMs: imageMs },
    accel: { ...accel, probeMs: accelProbeMs },
    bootToReadyMs: boots,
    bootToReadyMaxMs: bootTimes.length > 0 ? Math.max(...bootTimes) : null,
    bootToReadyMeanMs: bootTimes.length > 0 ? Math.round(bootTimes.reduce((a, b) => a + b, 0) / bootTimes.length) : null,
    matrix: { targets: targets.length, checks: checks.length, jobs: 2, wallMs: matrixWallMs, perTarget },
  };
}
