/** What `npm run bench matrix|stability` reports (pure): where a target's time went, and which cells changed verdict. */
import type { RunRecord, Status, TargetRecord } from '../../matrix/record.js';

export interface TargetTiming {
  totalMs: number;
  /** Start to ready: the guest's boot (and its QEMU CPU time) or the netns and agents. */
  setupMs: number;
  bootMs?: number;
  bootCpuMs?: number;
  /** Feature changes, link waits and the final restore. */
  configureMs: number;
  linkWaitMs: number;
  /** Agent calls of the checks: sending, capturing, waiting for frames. */
  sendMs: number;
  /** The rest of the checks' time: judging on the controller, counters, pcaps. */
  judgeMs: number;
  /** Link probes between variants. */
  probeMs: number;
  featureSets?: number;
  recoveries?: number;
  statuses: Partial<Record<Status, number>>;
}

/** Breaks a target's time down from the timing the runner keeps in its evidence. */
export function targetTiming(t: TargetRecord): TargetTiming {
  const timing = (t.evidence.timing ?? {}) as Record<string, number | undefined>;
  const statuses: Partial<Record<Status, number>> = {};
  for (const r of t.results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  const checksMs = timing.checksMs ?? t.results.reduce((a, r) => a + r.durationMs, 0);
  const sendMs = timing.agentMs ?? 0;
  return {
    totalMs: timing.totalMs ?? 0,
    setupMs: timing.setupMs ?? 0,
    bootMs: t.evidence.bootMs as number | undefined,
    bootCpuMs: t.evidence.bootCpuMs as number | undefined,
    configureMs: timing.configureMs ?? 0,
    linkWaitMs: timing.linkWaitMs ?? 0,
    sendMs,
    judgeMs: Math.max(0, checksMs - sendMs),
    probeMs: timing.probeMs ?? 0,
    featureSets: timing.featureSets,
    recoveries: timing.recoveries,
    statuses,
  };
}

/** One matrix cell: target × check × variant. */
export function cellKey(target: string, check: string, variant: string): string {
  return `${target} ${check} [${variant}]`;
}

/** Cells whose verdict differs between runs (or that some run lacks), with the verdict of each run in order. */
export function changedCells(records: readonly RunRecord[]): { cell: string; verdicts: (Status | 'missing')[] }[] {
  const cells = new Map<string, (Status | 'missing')[]>();
  records.forEach((rec, i) => {
    for (const t of rec.targets)
      for (const r of t.results) {
        const key = cellKey(t.spec, r.check, r.variant);
        let v = cells.get(key);
        if (!v) cells.set(key, (v = records.map(() => 'missing' as const)));
        v[i] = r.status;
      }
  });
  return [...cells]
    .filter(([, v]) => new Set(v).size > 1)
    .map(([cell, verdicts]) => ({ cell, verdicts }))
    .sort((a, b) => (a.cell < b.cell ? -1 : 1));
}
