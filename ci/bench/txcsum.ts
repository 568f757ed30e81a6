/** Wall time of the tx-csum family on lo and veth, through the real runner. */
import { NicmatrixError } from '../../harness/codec/errors.js';
import { allChecks } from '../../harness/checks/registry.js';
import { selectChecks } from '../../harness/run/plan.js';
import { runMatrix } from '../../harness/run/runner.js';

export async function benchTxCsum(): Promise<Record<string, unknown>> {
  const { checks } = selectChecks(allChecks(), ['tx-csum/*']);
  const out: Record<string, unknown> = {};
  for (const target of ['lo', 'veth']) {
    const t0 = Date.now();
    const record = await runMatrix({
      targets: [target],
      checks,
      checkGlobs: ['tx-csum/*'],
      seed: 1,
      jobs: 1,
      argv: [],
      signal: new AbortController().signal,
    });
    const [t] = record.targets;
    if (!t) throw new NicmatrixError('INTERNAL', `bench tx-csum: expected the run record to hold target ${target}, found no target`);
    const results = t.results;
    out[target] = {
      wallMs: Date.now() - t0,
      verdicts: results.length,
      statuses: Object.fromEntries(
        ['pass', 'fail', 'unsupported', 'skip', 'error'].map((s) => [s, results.filter((r) => r.status === s).length]),
      ),
      meanVariantMs: Math.round(results.reduce((a, r) => a + r.durationMs, 0) / Math.max(1, results.length)),
    };
  }
  return out;
}
