/** What `npm run bench matrix|stability` reports (pure): where a target's time went, which cells changed verdict, where qualification and matrix disagree. */
import { aggregate } from '../../matrix/aggregate.js';
import { deviceKey } from '../../matrix/identity.js';
import { shippedProfile } from '../../matrix/profile.js';
import { judgeTarget } from '../../matrix/qualify.js';
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

/**
 * Where the qualification report (the shipped `offload` profile) and the
 * matrix read the same run differently: per target, every check whose level
 * differs, and whether TX offload is qualified exactly when the matrix shows
 * the four IPv4/IPv6 TCP/UDP TX cells `offloaded`. Empty when they agree.
 */
export function qualificationDisagreements(record: RunRecord): string[] {
  const profile = shippedProfile('offload');
  if (!profile) return ['the shipped offload profile is missing'];
  const m = aggregate([record]);
  const out: string[] = [];
  for (const t of record.targets) {
    const d = m.devices.find((x) => x.key === deviceKey(t));
    if (!d) {
      out.push(`${t.spec}: no matrix row`);
      continue;
    }
    const fromMatrix = new Map(Object.values(m.cells[d.key] ?? {}).map((c) => [c.check, c.level]));
    const q = judgeTarget(profile, t, m.checks);
    for (const l of q.levels)
      if (fromMatrix.get(l.check) !== l.level)
        out.push(`${t.spec} ${l.check}: qualification ${l.level}, matrix ${fromMatrix.get(l.check)}`);
    const tx = ['tx-csum/ipv4-udp', 'tx-csum/ipv4-tcp', 'tx-csum/ipv6-udp', 'tx-csum/ipv6-tcp'];
    const qualified = q.requirements.filter((r) => r.id.startsWith('tx-offload-')).every((r) => r.verdict === 'met');
    const offloaded = tx.every((c) => fromMatrix.get(c) === 'offloaded');
    if (qualified !== offloaded)
      out.push(`${t.spec}: TX offload ${qualified ? '' : 'not '}qualified, matrix ${offloaded ? '' : 'not '}offloaded`);
  }
  return out;
}
