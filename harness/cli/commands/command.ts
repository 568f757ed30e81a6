import { parseArgs } from 'node:util';

/** Where a command writes: `out` for results, `err` for progress and diagnostics. */
export interface CommandIO {
  out(line: string): void;
  err(line: string): void;
  /** True when stderr is a terminal and not CI: progress may redraw. */
  readonly interactive: boolean;
}

/** One option of a command: a string (repeatable when `multiple`) or a flag. */
export type OptionSpec = { type: 'string'; multiple?: boolean; short?: string } | { type: 'boolean'; short?: string };
export type OptionTable = Record<string, OptionSpec>;

/** How every command is parsed: strictly (an unknown option is a usage error), positionals only where the command takes them. */
type ParseConfig<T extends OptionTable> = { args: string[]; options: T; allowPositionals: boolean; strict: true };

/**
 * The values a command's option table parses to, as Node's parser types them: a flag is a boolean, a
 * `multiple` option a list, any other a string; an option not given is undefined.
 */
export type OptionValues<T extends OptionTable> = ReturnType<typeof parseArgs<ParseConfig<T>>>['values'];

export interface CommandArgs<T extends OptionTable = OptionTable> {
  values: OptionValues<T>;
  positionals: string[];
}

/** One `nicmatrix` sub-command; its name and one-line summary live in main.ts's command list. `run` returns the exit status (0, 1, 2). */
export interface Command<T extends OptionTable = OptionTable> {
  /** Usage text shown by `nicmatrix help NAME` and on a usage error. */
  usage: string;
  options: T;
  /** Whether positionals are allowed (e.g. `ingest FILE…`). */
  positionals?: boolean;
  run(args: CommandArgs<T>, io: CommandIO): Promise<number>;
}

/** A command whose `run` sees its options typed by its own table (`const`: the table's literal types are kept). */
export function defineCommand<const T extends OptionTable>(command: Command<T>): Command<T> {
  return command;
}

/** Parses `argv` by the command's table; Node's parser throws on an unknown option, a missing value or a stray positional. */
export function parseCommandArgs<T extends OptionTable>(command: Command<T>, argv: string[]): CommandArgs<T> {
  const { values, positionals } = parseArgs<ParseConfig<T>>({
    args: argv,
    options: command.options,
    allowPositionals: command.positionals ?? false,
    strict: true,
  });
  return { values, positionals };
}
