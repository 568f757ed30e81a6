import type { ParseArgsConfig } from 'node:util';

/** Where a command writes: `out` for results, `err` for progress and diagnostics. */
export interface CommandIO {
  out(line: string): void;
  err(line: string): void;
  /** True when stderr is a terminal and not CI: progress may redraw. */
  readonly interactive: boolean;
}

export interface CommandArgs {
  values: Record<string, unknown>;
  positionals: string[];
}

/** One `nicmatrix` sub-command; its name and one-line summary live in main.ts's command list. `run` returns the exit status (0, 1, 2). */
export interface Command {
  /** Usage text shown by `nicmatrix help NAME` and on a usage error. */
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Whether positionals are allowed (e.g. `ingest FILE…`). */
  positionals?: boolean;
  run(args: CommandArgs, io: CommandIO): Promise<number>;
}
