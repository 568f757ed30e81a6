/**
 * The reporter interface: every output format (JUnit, Markdown, JSON, the
 * website) is a pure function of the same input, so one CLI command and one
 * set of tests serve them all.
 */
import type { Matrix } from '../matrix/aggregate.js';
import type { Definitions } from '../matrix/definitions.js';
import type { RunRecord } from '../matrix/record.js';

/** Several output files: path relative to the output directory → content. */
export type Files = Map<string, string | Uint8Array>;

/** What every reporter renders from. */
export interface ReportInput {
  /** The run records the report covers, oldest first. */
  runs: RunRecord[];
  /** The matrix aggregated from `runs` (history, regressions, claims). */
  matrix: Matrix;
  /** ISO time stamped into the output; passed in so rendering stays pure. */
  generatedAt: string;
  /** Where the runs came from, e.g. `run.json` or `.nicmatrix/matrix.db`. */
  source: string;
  /** Files the runs reference (pcaps), as the store keeps them; reporters that link evidence copy them. */
  artifacts?: readonly StoredArtifact[];
  /** What each check and family means (from the checks' own definitions); unknown ones get a fallback. */
  definitions?: Definitions;
}

/** A file a run record referenced, by its record-relative path. */
export interface StoredArtifact {
  runId: string;
  path: string;
  sha256: string;
  data: Uint8Array;
}

/** One output format. */
export interface Reporter {
  /** The `--format` name. */
  readonly format: string;
  /** File extension of a single-file output, without the dot. */
  readonly extension: string;
  render(input: ReportInput): string | Files;
}
