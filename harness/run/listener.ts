import type { ResultRecord, RunRecord, TargetRecord } from '../../matrix/record.js';

/** Progress events of a run; the CLI shows them on a terminal or as CI lines. */
export interface RunListener {
  onRunStart?(info: { id: string; targets: string[]; checks: string[]; seed: number; jobs: number }): void;
  onTargetStart?(spec: string): void;
  onTargetReady?(spec: string, target: TargetRecord, ms: number): void;
  onVariantStart?(spec: string, check: string, variant: string): void;
  onResult?(spec: string, result: ResultRecord): void;
  /** The target broke off (set-up failed, link gone, interrupted): `notRun` verdicts follow, each with `message`. */
  onTargetFailed?(spec: string, failure: { code: string; message: string; notRun: number }): void;
  onLog?(spec: string, line: string): void;
  onTargetEnd?(spec: string, target: TargetRecord): void;
  onRunEnd?(record: RunRecord, file: string | undefined): void;
}
