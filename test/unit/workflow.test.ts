import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { condition, contextRefs, evaluate, interpolate } from '../../ci/workflow/expressions.js';
import { workflowIssues } from '../../ci/workflow/check.js';

const root = path.resolve(import.meta.dirname, '../..');
const WORKFLOW = path.join(root, '.github/workflows/lab.yml');
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const load = (): Doc => parse(fs.readFileSync(WORKFLOW, 'utf8')) as Doc;
const executable = (p: string): boolean => {
  try {
    fs.accessSync(path.join(root, p), fs.constants.X_OK);
    return fs.statSync(path.join(root, p)).isFile();
  } catch {
    return false;
  }
};
const issues = async (doc: Doc) => (await workflowIssues(stringify(doc), { executable }, 'lab.yml')).map((i) => `${i.path}: ${i.message}`);

describe('the lab workflow', () => {
  it("passes GitHub's own workflow parser and the project's rules", async () => {
    expect(await issues(load())).toEqual([]);
  });

  it('plans one job per inventory label, runs them on self-hosted runners with that label and keeps the records', () => {
    const { jobs } = load();
    expect(jobs.plan.outputs.labels).toBe('${{ steps.labels.outputs.labels }}');
    expect(jobs.plan.steps.find((s: Doc) => s.id === 'labels').run).toContain('ci/lab/labels.sh "$NICMATRIX_LAB"');
    expect(jobs.lab.needs).toBe('plan');
    expect(jobs.lab.strategy.matrix.label).toBe('${{ fromJSON(needs.plan.outputs.labels) }}');
    expect(jobs.lab.strategy['fail-fast']).toBe(false);
    expect(jobs.lab['runs-on']).toEqual(['self-hosted', 'linux', '${{ matrix.label }}']);
    const run = jobs.lab.steps.find((s: Doc) => typeof s.run === 'string' && s.run.includes('ci/lab/run.sh'));
    expect(run.env.LABEL).toBe('${{ matrix.label }}');
    const upload = jobs.lab.steps.find((s: Doc) => String(s.uses).startsWith('actions/upload-artifact@'));
    expect(upload.if).toBe('always()');
    expect(upload.with.name).toBe('run-records-${{ matrix.label }}');
  });

  it('then ingests every artifact, builds the site and deploys it with GitHub Pages, even after a failed lab job', () => {
    const { jobs } = load();
    const p = jobs.publish;
    expect(p.needs).toEqual(['plan', 'lab']);
    expect(p.if).toContain('always()');
    const uses = p.steps.map((s: Doc) => String(s.uses ?? '').replace(/@.*/, ''));
    expect(uses).toEqual(
      expect.arrayContaining([
        'actions/download-artifact',
        'actions/upload-pages-artifact',
        'actions/deploy-pages',
        'actions/cache/restore',
        'actions/cache/save',
      ]),
    );
    const download = p.steps.find((s: Doc) => String(s.uses).startsWith('actions/download-artifact@'));
    expect(download.with.pattern).toBe('run-records-*');
    const publish = p.steps.find((s: Doc) => typeof s.run === 'string' && s.run.includes('ci/lab/publish.sh'));
    expect(publish.run).toBe(`ci/lab/publish.sh ${download.with.path} site`);
    expect(p.steps.find((s: Doc) => String(s.uses).startsWith('actions/upload-pages-artifact@')).with.path).toBe('site');
  });
});

describe('the workflow check can fail', () => {
  const mutate = async (fn: (d: Doc) => void): Promise<string[]> => {
    const d = load();
    fn(d);
    return issues(d);
  };

  it.each([
    ['an unknown top-level key', (d: Doc) => (d.job = {}), "Unexpected value 'job'"],
    ['a misspelt job key', (d: Doc) => (d.jobs.lab['run-on'] = 'x'), "Unexpected value 'run-on'"],
    ['needs naming no job', (d: Doc) => (d.jobs.publish.needs = ['plan', 'lab', 'build']), "Job 'publish' depends on unknown job 'build'"],
    ['a step with both uses and run', (d: Doc) => (d.jobs.plan.steps[0].run = 'true'), "Unexpected value 'run'"],
    [
      'an unpinned action',
      (d: Doc) => (d.jobs.plan.steps[0].uses = 'actions/checkout'),
      'jobs.plan.steps[0].uses: must be owner/repo[/path]@ref',
    ],
    ['matrix read without a matrix', (d: Doc) => delete d.jobs.lab.strategy, 'reads matrix, but the job has no strategy.matrix'],
    ['needs.X read without needing X', (d: Doc) => (d.jobs.lab.needs = []), "reads needs.plan, but plan is not in this job's needs"],
    [
      'an output of no step',
      (d: Doc) => (d.jobs.plan.outputs.labels = '${{ steps.label.outputs.labels }}'),
      'jobs.plan.outputs: ${{ steps.label.outputs.labels }} reads steps.label, but no step has id label',
    ],
    ['an undeclared input', (d: Doc) => (d.env.NICMATRIX_CHECKS = '${{ inputs.check }}'), 'reads inputs.check, which no trigger declares'],
    ['a permission level a scope does not have', (d: Doc) => (d.jobs.publish.permissions['id-token'] = 'read'), "Unexpected value 'read'"],
    ['an unknown permission scope', (d: Doc) => (d.permissions.content = 'read'), "Unexpected value 'content'"],
    ['a bad cron', (d: Doc) => (d.on.schedule[0].cron = '17 3 * *'), 'Invalid cron expression'],
    [
      'deploy-pages without pages: write',
      (d: Doc) => delete d.jobs.publish.permissions.pages,
      'jobs.publish.permissions.pages: must be write for actions/deploy-pages',
    ],
    [
      'deploy-pages outside github-pages',
      (d: Doc) => (d.jobs.publish.environment = 'prod'),
      'jobs.publish.environment: must be github-pages',
    ],
    [
      'a script that is not in the repository',
      (d: Doc) => (d.jobs.lab.steps[3].run = 'ci/lab/nosuch.sh x'),
      'jobs.lab.steps[3].run: calls ci/lab/nosuch.sh, which is not an executable file',
    ],
    [
      'jobs needing each other',
      (d: Doc) => (d.jobs.plan.needs = 'publish'),
      'The workflow must contain at least one job with no dependencies',
    ],
    ['an unknown trigger', (d: Doc) => (d.on.nightly = null), "Unexpected value 'nightly'"],
  ])('%s', async (_name, fn, expected) => {
    expect((await mutate(fn)).join('\n')).toContain(expected);
  });
});

describe('workflow expressions', () => {
  const scope = {
    contexts: {
      matrix: { label: 'qemu' },
      needs: { plan: { outputs: { labels: '["veth","qemu"]' }, result: 'success' } },
      vars: {},
      inputs: { checks: '' },
      steps: { deploy: { outputs: { page_url: 'u' } } },
    },
  };

  it('evaluates what the lab workflow uses', () => {
    expect(evaluate('fromJSON(needs.plan.outputs.labels)', scope)).toEqual(['veth', 'qemu']);
    expect(evaluate("vars.NICMATRIX_LAB || 'ci/lab/inventory.json'", scope)).toBe('ci/lab/inventory.json');
    expect(evaluate("needs.plan.outputs.labels != '[]'", scope)).toBe(true);
    expect(evaluate("always() && needs.plan.result == 'success'", scope)).toBe(true);
    expect(interpolate('out/lab/${{ matrix.label }}', scope)).toBe('out/lab/qemu');
    expect(interpolate("It''s ${{ 'it''s' }}", scope)).toBe("It''s it's");
  });

  it('if: defaults to success() and status functions see the job status', () => {
    expect(condition(undefined, { ...scope, status: 'failure' })).toBe(false);
    expect(condition('always()', { ...scope, status: 'failure' })).toBe(true);
    expect(condition("needs.plan.outputs.labels != '[]'", { ...scope, status: 'failure' })).toBe(false);
    expect(condition('${{ failure() }}', { ...scope, status: 'failure' })).toBe(true);
  });

  it('lists context references, ignoring functions and string literals', () => {
    expect(contextRefs("fromJSON(needs.plan.outputs.labels) && vars.X || 'matrix.no'")).toEqual(['needs.plan.outputs.labels', 'vars.X']);
    expect(contextRefs('always()')).toEqual([]);
    // What GitHub's evaluator does not know (hashFiles runs on a runner) is an error, never a guess.
    expect(() => evaluate("hashFiles('x')", scope)).toThrow(/Unrecognized function: 'hashFiles'/);
    expect(() => evaluate('a ==', scope)).toThrow(expect.objectContaining({ name: 'NicmatrixError', code: 'USAGE' }));
  });
});
