import { describe, expect, it } from 'vitest';
import { joinNegativeValues, main } from '../../harness/cli/main.js';

async function run(args: string[]): Promise<{ code: number; err: string[] }> {
  const err: string[] = [];
  const code = await main(args, { out: () => {}, err: (l) => err.push(l), interactive: false });
  return { code, err };
}

describe('usage errors, in the one error [CODE] format', () => {
  it('a negative number reaches the option check, which says what it expects', async () => {
    expect(joinNegativeValues(['--seed', '-5', '--target', 'veth'], { seed: { type: 'string' }, target: { type: 'string' } })).toEqual([
      '--seed=-5',
      '--target',
      'veth',
    ]);
    // A boolean option never takes the next word, and a non-number dash word stays an option.
    expect(joinNegativeValues(['--verbose', '-5'], { verbose: { type: 'boolean' } })).toEqual(['--verbose', '-5']);
    expect(joinNegativeValues(['--seed', '--verbose'], { seed: { type: 'string' } })).toEqual(['--seed', '--verbose']);
    expect(await run(['run', '--target', 'veth', '--seed', '-5'])).toEqual({
      code: 2,
      err: ['nicmatrix run: error [USAGE]: --seed: expected a whole number ≥ 0, found "-5"'],
    });
  });

  it("an unknown option is one line, not Node's text and the whole usage", async () => {
    expect(await run(['run', '--bogus'])).toEqual({
      code: 2,
      err: ["nicmatrix run: error [USAGE]: Unknown option '--bogus' (nicmatrix run --help shows the options)"],
    });
  });

  it('a missing file is named with what was expected and the errno once', async () => {
    expect(await run(['report', '--format', 'junit', '--run', '/nonexistent/run.json'])).toEqual({
      code: 2,
      err: ['nicmatrix report: error [USAGE]: --run /nonexistent/run.json: expected a readable file, found no such file (ENOENT)'],
    });
    const dir = await run(['report', '--format', 'junit', '--run', '/']);
    expect(dir.err).toEqual(['nicmatrix report: error [USAGE]: --run /: expected a readable file, found a directory (EISDIR)']);
  });
});
