/**
 * Verdict history of one matrix cell: variants combine into one verdict per
 * observation, the latest observation per kernel is that kernel's verdict,
 * and a pass followed by a fail (between runs on a kernel, or from one
 * kernel to the next) is a regression. Pure.
 */
import type { Evidence, Status } from './record.js';
import { compareKernels } from './identity.js';
import { cellLevel, type Level, type LevelJudgement } from './levels.js';
import { combineStatuses } from './verdict.js';

/** One variant's outcome inside an observation. */
export interface VariantResult {
  variant: string;
  status: Status;
  message: string;
  durationMs: number;
  evidence: Evidence;
}

/** One device × check as seen by one run. */
export interface Observation {
  runId: string;
  finishedAt: string;
  kernel: string;
  spec: string;
  /** Combined verdict over the variants (see `combine`). */
  status: Status;
  /** Whether the driver claimed the offload in this run's feature snapshot. */
  claimed: boolean | null;
  variants: VariantResult[];
  /** Support level of this observation (`levels.ts`); derived from the variants when absent. */
  level?: LevelJudgement;
}

/** A pass followed by a fail. */
export interface Regression {
  across: 'run' | 'kernel';
  from: { kernel: string; runId: string };
  to: { kernel: string; runId: string };
}

/** The latest observation on one kernel, flagged when it is a regression. */
export interface KernelVerdict {
  kernel: string;
  status: Status;
  runId: string;
  finishedAt: string;
  claimed: boolean | null;
  regression: boolean;
  /** Support level of that observation and its one-line note. */
  level: Level;
  note: string;
}

/** The verdict of several variants, by the one verdict order (`verdict.ts`). */
export function combine(statuses: readonly Status[]): Status {
  return combineStatuses(statuses);
}

const decisive = (s: Status): boolean => s === 'pass' || s === 'fail';

/** Per-kernel verdicts (in kernel order) and every pass → fail transition of one cell. */
export function judgeHistory(history: readonly Observation[]): { perKernel: KernelVerdict[]; regressions: Regression[] } {
  const byKernel = new Map<string, Observation[]>();
  for (const o of history) {
    const list = byKernel.get(o.kernel);
    if (list) list.push(o);
    else byKernel.set(o.kernel, [o]);
  }
  const regressions: Regression[] = [];
  const perKernel: KernelVerdict[] = [];
  let prevDecisive: KernelVerdict | undefined;
  for (const kernel of [...byKernel.keys()].sort(compareKernels)) {
    const runs = byKernel
      .get(kernel)!
      .slice()
      .sort((a, b) => a.finishedAt.localeCompare(b.finishedAt));
    let lastDecisive: Observation | undefined;
    let withinKernel = false;
    for (const o of runs) {
      if (!decisive(o.status)) continue;
      if (lastDecisive?.status === 'pass' && o.status === 'fail') {
        regressions.push({ across: 'run', from: { kernel, runId: lastDecisive.runId }, to: { kernel, runId: o.runId } });
      }
      withinKernel = lastDecisive?.status === 'pass' && o.status === 'fail' ? true : o.status === 'pass' ? false : withinKernel;
      lastDecisive = o;
    }
    // Each kernel's list was created with its first observation.
    const latest = runs[runs.length - 1]!;
    const lv = latest.level ?? cellLevel({ check: '', variants: latest.variants });
    const v: KernelVerdict = {
      kernel,
      status: latest.status,
      runId: latest.runId,
      finishedAt: latest.finishedAt,
      claimed: latest.claimed,
      regression: false,
      level: lv.level,
      note: lv.note,
    };
    if (latest.status === 'fail') {
      const afterPass = prevDecisive?.status === 'pass';
      if (afterPass)
        regressions.push({
          across: 'kernel',
          from: { kernel: prevDecisive!.kernel, runId: prevDecisive!.runId },
          to: { kernel, runId: latest.runId },
        });
      // A fail streak that started with a regression stays one on later kernels.
      v.regression = afterPass || prevDecisive?.regression === true || withinKernel;
    }
    if (decisive(latest.status)) prevDecisive = v;
    perKernel.push(v);
  }
  return { perKernel, regressions };
}
