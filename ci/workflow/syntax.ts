/**
 * A structural check of a GitHub Actions workflow, written from GitHub's
 * documented workflow syntax (pure): the allowed keys at each level, job ids,
 * `needs` that exist and do not loop, steps with exactly one of `uses`/`run`,
 * pinned actions, GITHUB_TOKEN permission scopes and levels, cron schedules,
 * dispatch inputs, and every `${{ }}` reading only contexts available there
 * (matrix only under a matrix, needs.X only for a job in `needs`, steps.Y
 * only for an earlier step, inputs only when declared). Scripts a `run:` calls
 * from the repository must exist and be executable (`exists` answers that).
 */
import { contextRefs, findExpressions } from './expressions.js';

export interface WorkflowIssue {
  /** Dotted path into the workflow, e.g. `jobs.lab.steps[2].uses`. */
  path: string;
  message: string;
}

const TOP = ['name', 'run-name', 'on', 'permissions', 'env', 'defaults', 'concurrency', 'jobs'];
const JOB = [
  'name',
  'permissions',
  'needs',
  'if',
  'runs-on',
  'environment',
  'concurrency',
  'outputs',
  'env',
  'defaults',
  'steps',
  'timeout-minutes',
  'strategy',
  'continue-on-error',
  'container',
  'services',
  'uses',
  'with',
  'secrets',
];
const STEP = ['id', 'if', 'name', 'uses', 'run', 'shell', 'with', 'env', 'continue-on-error', 'timeout-minutes', 'working-directory'];
const EVENTS = [
  'branch_protection_rule',
  'check_run',
  'check_suite',
  'create',
  'delete',
  'deployment',
  'deployment_status',
  'discussion',
  'discussion_comment',
  'fork',
  'gollum',
  'issue_comment',
  'issues',
  'label',
  'merge_group',
  'milestone',
  'page_build',
  'public',
  'pull_request',
  'pull_request_review',
  'pull_request_review_comment',
  'pull_request_target',
  'push',
  'registry_package',
  'release',
  'repository_dispatch',
  'schedule',
  'status',
  'watch',
  'workflow_call',
  'workflow_dispatch',
  'workflow_run',
];
const SCOPES: Record<string, string[]> = Object.fromEntries([
  ...[
    'actions',
    'attestations',
    'checks',
    'contents',
    'deployments',
    'discussions',
    'issues',
    'packages',
    'pages',
    'pull-requests',
    'repository-projects',
    'security-events',
    'statuses',
  ].map((s) => [s, ['read', 'write', 'none']]),
  ['id-token', ['write', 'none']],
  ['models', ['read', 'none']],
]);
const CONTEXTS = ['github', 'env', 'vars', 'job', 'jobs', 'steps', 'runner', 'secrets', 'strategy', 'matrix', 'needs', 'inputs'];
const INPUT_TYPES = ['string', 'boolean', 'choice', 'number', 'environment'];
const ID = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const CRON_FIELD = /^(\*|\d+(-\d+)?)(\/\d+)?(,(\*|\d+(-\d+)?)(\/\d+)?)*$|^[A-Z]{3}(-[A-Z]{3})?$/i;

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface CheckOptions {
  /** Whether a repository-relative file exists and is executable; scripts named in `run:` are checked with it. */
  executable?: (path: string) => boolean;
}

export function workflowIssues(doc: unknown, opts: CheckOptions = {}): WorkflowIssue[] {
  const issues: WorkflowIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });
  const keys = (v: Record<string, unknown>, allowed: string[], at: string) => {
    for (const k of Object.keys(v))
      if (!allowed.includes(k)) add(at ? `${at}.${k}` : k, `is not a documented key here (allowed: ${allowed.join(', ')})`);
  };
  if (!isMap(doc)) return [{ path: '', message: 'a workflow must be a mapping' }];
  keys(doc, TOP, '');
  if (!('on' in doc)) add('on', 'is required');
  if (!isMap(doc.jobs) || Object.keys(doc.jobs).length === 0)
    return [...issues, { path: 'jobs', message: 'is required: a mapping of at least one job' }];
  const inputs = checkOn(doc.on, add);
  if (doc.permissions !== undefined) checkPermissions(doc.permissions, 'permissions', add);
  // Workflow-level env, run-name and concurrency see only github, inputs, vars and secrets.
  for (const key of ['env', 'run-name', 'concurrency']) {
    for (const text of strings(doc[key])) {
      for (const expr of findExpressions(text)) {
        for (const ref of contextRefs(expr)) {
          const [root, name] = ref.split('.');
          if (!['github', 'inputs', 'vars', 'secrets'].includes(root))
            add(key, `\${{ ${expr} }} reads "${root}", which is not available at the workflow level`);
          else if (root === 'inputs' && name && !inputs.includes(name))
            add(key, `\${{ ${expr} }} reads inputs.${name}, which no trigger declares`);
        }
      }
    }
  }
  const jobs = doc.jobs;
  for (const [id, job] of Object.entries(jobs)) {
    const at = `jobs.${id}`;
    if (!ID.test(id)) add(at, 'a job id must start with a letter or _ and contain only letters, digits, - and _');
    if (!isMap(job)) {
      add(at, 'a job must be a mapping');
      continue;
    }
    keys(job, JOB, at);
    const needs = job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];
    for (const n of needs)
      if (typeof n !== 'string' || !(n in jobs)) add(`${at}.needs`, `names no job of this workflow: ${JSON.stringify(n)}`);
    if (job.uses === undefined) {
      if (job['runs-on'] === undefined) add(`${at}.runs-on`, 'is required for a job with steps');
      if (!Array.isArray(job.steps) || job.steps.length === 0) add(`${at}.steps`, 'is required: a list of at least one step');
    } else if (job.steps !== undefined) add(`${at}.steps`, 'a job that calls a reusable workflow (uses) has no steps');
    if (job['timeout-minutes'] !== undefined && !(typeof job['timeout-minutes'] === 'number' && job['timeout-minutes'] > 0))
      add(`${at}.timeout-minutes`, 'must be a positive number');
    if (job.permissions !== undefined) checkPermissions(job.permissions, `${at}.permissions`, add);
    const hasMatrix = isMap(job.strategy) && job.strategy.matrix !== undefined;
    if (job.strategy !== undefined) {
      if (!isMap(job.strategy)) add(`${at}.strategy`, 'must be a mapping');
      else keys(job.strategy, ['matrix', 'fail-fast', 'max-parallel'], `${at}.strategy`);
    }
    const steps = Array.isArray(job.steps) ? job.steps : [];
    const stepIds: string[] = [];
    const ctx = (where: string, value: unknown, stepsSoFar: string[], anyStep = false) => {
      for (const text of strings(value)) {
        for (const expr of findExpressions(text)) {
          for (const ref of contextRefs(expr)) {
            const [root, name] = ref.split('.');
            if (!CONTEXTS.includes(root))
              add(where, `\${{ ${expr} }} reads "${root}", which is no context (known: ${CONTEXTS.join(', ')})`);
            else if (root === 'matrix' && !hasMatrix) add(where, `\${{ ${expr} }} reads matrix, but the job has no strategy.matrix`);
            else if (root === 'needs' && name && !needs.includes(name))
              add(where, `\${{ ${expr} }} reads needs.${name}, but ${name} is not in this job's needs`);
            else if (root === 'steps' && name && !(anyStep ? stepIds : stepsSoFar).includes(name))
              add(where, `\${{ ${expr} }} reads steps.${name}, but no ${anyStep ? '' : 'earlier '}step has id ${name}`);
            else if (root === 'inputs' && name && !inputs.includes(name))
              add(where, `\${{ ${expr} }} reads inputs.${name}, which no trigger declares`);
          }
        }
      }
    };
    steps.forEach((step, i) => {
      const sat = `${at}.steps[${i}]`;
      if (!isMap(step)) return add(sat, 'a step must be a mapping');
      keys(step, STEP, sat);
      if ((step.uses === undefined) === (step.run === undefined)) add(sat, 'a step needs exactly one of uses or run');
      if (typeof step.uses === 'string' && !/^(\.\/|docker:\/\/)|^[\w.-]+\/[\w./-]+@[\w./-]+$/.test(step.uses))
        add(`${sat}.uses`, `must be owner/repo[/path]@ref, ./path or docker://image, found "${step.uses}"`);
      if (typeof step.id === 'string') {
        if (!ID.test(step.id)) add(`${sat}.id`, 'must start with a letter or _ and contain only letters, digits, - and _');
        if (stepIds.includes(step.id)) add(`${sat}.id`, `"${step.id}" is already the id of another step of this job`);
      }
      ctx(sat, { ...step, id: undefined }, [...stepIds]);
      if (typeof step.id === 'string') stepIds.push(step.id);
      if (typeof step.run === 'string' && opts.executable) {
        for (const script of step.run.matchAll(/(?:^|[\s;&|(])((?:\.\/)?ci\/[\w./-]+\.sh)\b/g)) {
          if (!opts.executable(script[1].replace(/^\.\//, '')))
            add(`${sat}.run`, `calls ${script[1]}, which is not an executable file of the repository`);
        }
      }
      if (typeof step.uses === 'string' && step.uses.startsWith('actions/deploy-pages@')) checkPagesJob(job, at, add);
    });
    const { steps: _steps, ...rest } = job;
    ctx(at, { ...rest, outputs: undefined, environment: undefined }, []);
    ctx(`${at}.outputs`, job.outputs, stepIds, true);
    ctx(`${at}.environment`, job.environment, stepIds, true);
  }
  for (const cycle of needsCycles(jobs)) add(`jobs.${cycle[0]}.needs`, `jobs need each other in a loop: ${cycle.join(' → ')}`);
  return issues;
}

/** Every string inside a value, at any depth. */
function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (isMap(v)) return Object.values(v).flatMap(strings);
  return [];
}

/** Checks the triggers; returns the names of declared dispatch/call inputs. */
function checkOn(on: unknown, add: (p: string, m: string) => void): string[] {
  const events =
    typeof on === 'string'
      ? { [on]: null }
      : Array.isArray(on)
        ? Object.fromEntries(on.map((e) => [String(e), null]))
        : isMap(on)
          ? on
          : undefined;
  if (!events) {
    add('on', 'must be an event name, a list of them or a mapping');
    return [];
  }
  const inputs: string[] = [];
  for (const [event, cfg] of Object.entries(events)) {
    if (!EVENTS.includes(event)) add(`on.${event}`, 'is not a workflow trigger event');
    if (event === 'schedule') {
      if (!Array.isArray(cfg) || cfg.length === 0) add('on.schedule', 'must be a list of {cron}');
      else
        cfg.forEach((c, i) => {
          const fields = isMap(c) && typeof c.cron === 'string' ? c.cron.trim().split(/\s+/) : [];
          if (fields.length !== 5 || !fields.every((f) => CRON_FIELD.test(f)))
            add(`on.schedule[${i}].cron`, 'must be a POSIX cron expression of 5 fields');
        });
    }
    if ((event === 'workflow_dispatch' || event === 'workflow_call') && isMap(cfg) && cfg.inputs !== undefined) {
      if (!isMap(cfg.inputs)) add(`on.${event}.inputs`, 'must be a mapping of inputs');
      else
        for (const [name, input] of Object.entries(cfg.inputs)) {
          inputs.push(name);
          if (!isMap(input)) add(`on.${event}.inputs.${name}`, 'must be a mapping');
          else if (input.type !== undefined && !INPUT_TYPES.includes(String(input.type)))
            add(`on.${event}.inputs.${name}.type`, `must be one of ${INPUT_TYPES.join(', ')}`);
        }
    }
  }
  return inputs;
}

function checkPermissions(p: unknown, at: string, add: (p: string, m: string) => void): void {
  if (p === 'read-all' || p === 'write-all') return;
  if (!isMap(p)) return add(at, 'must be read-all, write-all or a mapping of scopes');
  for (const [scope, level] of Object.entries(p)) {
    if (!(scope in SCOPES)) add(`${at}.${scope}`, `is not a GITHUB_TOKEN permission scope (known: ${Object.keys(SCOPES).join(', ')})`);
    else if (!SCOPES[scope].includes(String(level))) add(`${at}.${scope}`, `must be ${SCOPES[scope].join(', ')}`);
  }
}

/** actions/deploy-pages needs pages: write, id-token: write and the github-pages environment. */
function checkPagesJob(job: Record<string, unknown>, at: string, add: (p: string, m: string) => void): void {
  const perms = isMap(job.permissions) ? job.permissions : {};
  if (perms.pages !== 'write') add(`${at}.permissions.pages`, 'must be write for actions/deploy-pages');
  if (perms['id-token'] !== 'write') add(`${at}.permissions.id-token`, 'must be write for actions/deploy-pages');
  const env = isMap(job.environment) ? job.environment.name : job.environment;
  if (env !== 'github-pages') add(`${at}.environment`, 'must be github-pages for actions/deploy-pages');
}

function needsCycles(jobs: Record<string, unknown>): string[][] {
  const needsOf = (id: string): string[] => {
    const j = jobs[id];
    const n = isMap(j) ? j.needs : undefined;
    return (n === undefined ? [] : Array.isArray(n) ? n : [n]).filter((x): x is string => typeof x === 'string' && x in jobs);
  };
  const cycles: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, trail: string[]) => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') return void cycles.push([...trail.slice(trail.indexOf(id)), id]);
    state.set(id, 'visiting');
    for (const n of needsOf(id)) visit(n, [...trail, id]);
    state.set(id, 'done');
  };
  for (const id of Object.keys(jobs)) visit(id, []);
  return cycles;
}
