/** Plain, line-oriented progress for CI logs and pipes: one line per event that matters. */
import type { RunListener } from '../../run/listener.js';

/** `quietPass`: count passes without a line each (the terminal view shows them in its status line). */
export function lineProgress(write: (line: string) => void, verbose = false, quietPass = false): RunListener {
  const counts = new Map<string, number>();
  /** Per target that broke off, the message its not-run verdicts carry: said once, not once per check. */
  const brokeOff = new Map<string, string>();
  return {
    onRunStart: (i) => write(`run ${i.id}: ${i.targets.length} target(s) × ${i.checks.length} check(s), seed ${i.seed}, jobs ${i.jobs}`),
    onTargetStart: (spec) => write(`[${spec}] starting`),
    onTargetReady: (spec, t, ms) =>
      write(`[${spec}] ready in ${ms} ms: driver ${t.driver.name || '?'} ${t.driver.version}, kernel ${t.kernel}`),
    onTargetFailed: (spec, f) => {
      brokeOff.set(spec, f.message);
      write(`[${spec}] ${'ERROR'.padEnd(11)} [${f.code}] ${f.message} (${f.notRun} verdict(s) not run, recorded as error)`);
    },
    onResult: (spec, r) => {
      counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
      if (quietPass && r.status === 'pass') return;
      if (r.status === 'error' && brokeOff.get(spec) === r.message) return;
      // A harness error carries its stable code, as the record does, so a log line can be grepped by it.
      const code = r.status === 'error' && typeof r.evidence.errorCode === 'string' ? ` [${r.evidence.errorCode}]` : '';
      write(
        `[${spec}] ${r.status.toUpperCase().padEnd(11)} ${r.check} [${r.variant}] ${r.durationMs} ms${r.status === 'pass' ? '' : `${code}: ${r.message}`}`,
      );
    },
    onLog: verbose ? (spec, line) => write(`[${spec}] ${line}`) : undefined,
    onTargetEnd: (spec, t) => write(`[${spec}] done: ${summarize(t.results.map((r) => r.status))}`),
    onRunEnd: (_record, file) => {
      write(`total: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ') || 'no verdicts'}`);
      if (file) write(`run record: ${file}`);
    },
  };
}

export function summarize(statuses: string[]): string {
  const m = new Map<string, number>();
  for (const s of statuses) m.set(s, (m.get(s) ?? 0) + 1);
  return [...m].map(([s, n]) => `${n} ${s}`).join(', ') || 'no verdicts';
}
