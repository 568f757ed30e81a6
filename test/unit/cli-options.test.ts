import { describe, expect, expectTypeOf, it } from 'vitest';
import { defineCommand, parseCommandArgs } from '../../harness/cli/commands/command.js';
import { parseJobs, parseSeed, wholeNumber } from '../../harness/cli/commands/shared.js';

const demo = defineCommand({
  usage: 'usage: demo',
  options: { out: { type: 'string' }, checks: { type: 'string', multiple: true }, verbose: { type: 'boolean' } },
  positionals: true,
  run: ({ values }) => Promise.resolve(values.verbose ? 1 : 0),
});

describe('options typed by their command', () => {
  it('parses by the table: a string, a list, a flag, absent ones undefined, each with its own type', () => {
    const { values, positionals } = parseCommandArgs(demo, ['--checks', 'a', '--checks', 'b', '--verbose', 'file']);
    expect(values).toEqual({ checks: ['a', 'b'], verbose: true });
    expect(positionals).toEqual(['file']);
    expectTypeOf(values.out).toEqualTypeOf<string | undefined>();
    expectTypeOf(values.checks).toEqualTypeOf<string[] | undefined>();
    expectTypeOf(values.verbose).toEqualTypeOf<boolean | undefined>();
  });

  it('refuses what the table does not name, and positionals where the command takes none', () => {
    expect(() => parseCommandArgs(demo, ['--bogus'])).toThrow(/Unknown option '--bogus'/);
    expect(() => parseCommandArgs({ ...demo, positionals: false }, ['file'])).toThrow(/Unexpected argument 'file'/);
  });

  it('whole-number options say the option, the least value and what was found', () => {
    expect(wholeNumber('repeat', undefined, 1, 1)).toBe(1);
    expect(wholeNumber('retry-failed', '3', 0, 0)).toBe(3);
    expect(() => wholeNumber('repeat', '0', 1, 1)).toThrow('--repeat: expected a whole number ≥ 1, found "0"');
    expect(() => parseJobs('1.5')).toThrow('--jobs: expected a whole number ≥ 1, found "1.5"');
    expect(parseJobs(undefined)).toBeGreaterThanOrEqual(1);
    expect(parseSeed('7')).toBe(7);
    expect(() => parseSeed('x')).toThrow('--seed: expected a whole number ≥ 0, found "x"');
    expect(Number.isInteger(parseSeed(undefined))).toBe(true);
  });
});
