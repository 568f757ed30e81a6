/**
 * The check of a GitHub Actions workflow: GitHub's own parser (`@actions/workflow-parser`:
 * the workflow schema, keys, triggers, cron, permissions, job dependencies and loops,
 * expressions) and then the project's own rules on top, which no schema knows: actions
 * pinned to a ref, `${{ }}` reading only what the job has (matrix under a matrix, needs.X
 * for a needed job, steps.Y for an earlier step, declared inputs), actions/deploy-pages
 * with its permissions and environment, and the repository scripts a `run:` calls.
 */
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { parse } from 'yaml';
import { contextRefs, findExpressions } from './expressions.js';

export interface WorkflowIssue {
  /** Where: `FILE (Line: L, Col: C)` from GitHub's parser, or a dotted path such as `jobs.lab.steps[2].uses`. */
  path: string;
  message: string;
}

export interface CheckOptions {
  /** Whether a repository-relative file exists and is executable; scripts named in `run:` are checked with it. */
  executable?: (path: string) => boolean;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every issue of the workflow `text` (named `file` in GitHub's messages); none for a sound workflow. */
export async function workflowIssues(text: string, opts: CheckOptions = {}, file = 'workflow.yml'): Promise<WorkflowIssue[]> {
  const issues = await githubIssues(text, file);
  // The project's rules read the document GitHub accepted; on a broken one they would only repeat its errors.
  if (issues.length === 0) issues.push(...projectIssues(parse(text) as Record<string, unknown>, opts));
  return issues;
}

async function githubIssues(text: string, file: string): Promise<WorkflowIssue[]> {
  const parsed = parseWorkflow({ name: file, content: text }, new NoOperationTraceWriter());
  const messages = parsed.context.errors.getErrors().map((e) => e.message);
  if (parsed.value) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    messages.push(...(template.errors ?? []).map((e) => e.Message));
  }
  return [...new Set(messages)].map((m) => {
    const at = /^(.*? \(Line: \d+, Col: \d+\)): (.*)$/s.exec(m);
    // Both groups are not optional: a match holds them.
    return at ? { path: at[1]!, message: at[2]! } : { path: file, message: m };
  });
}

function projectIssues(doc: Record<string, unknown>, opts: CheckOptions): WorkflowIssue[] {
  const issues: WorkflowIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });
  const inputs = declaredInputs(doc.on);
  for (const key of ['env', 'run-name', 'concurrency']) {
    for (const text of strings(doc[key])) {
      for (const expr of findExpressions(text)) {
        for (const [root, name] of contextRefs(expr).map((r) => r.split('.'))) {
          if (root === 'inputs' && name && !inputs.includes(name))
            add(key, `\${{ ${expr} }} reads inputs.${name}, which no trigger declares`);
        }
      }
    }
  }
  const jobs = isMap(doc.jobs) ? doc.jobs : {};
  for (const [id, job] of Object.entries(jobs)) {
    if (!isMap(job)) continue;
    const at = `jobs.${id}`;
    const needs = job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];
    const hasMatrix = isMap(job.strategy) && job.strategy.matrix !== undefined;
    const steps = Array.isArray(job.steps) ? job.steps : [];
    const stepIds: string[] = [];
    const reads = (where: string, value: unknown, stepsSoFar: string[], anyStep = false) => {
      for (const text of strings(value)) {
        for (const expr of findExpressions(text)) {
          for (const [root, name] of contextRefs(expr).map((r) => r.split('.'))) {
            if (root === 'matrix' && !hasMatrix) add(where, `\${{ ${expr} }} reads matrix, but the job has no strategy.matrix`);
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
    steps.forEach((step: unknown, i) => {
      if (!isMap(step)) return;
      const sat = `${at}.steps[${i}]`;
      // A moving ref (no @) runs whatever the action's owner pushes next.
      if (typeof step.uses === 'string' && !/^(\.\/|docker:\/\/)|^[\w.-]+\/[\w./-]+@[\w./-]+$/.test(step.uses))
        add(`${sat}.uses`, `must be owner/repo[/path]@ref, ./path or docker://image, found "${step.uses}"`);
      reads(sat, { ...step, id: undefined }, [...stepIds]);
      if (typeof step.id === 'string') stepIds.push(step.id);
      if (typeof step.run === 'string' && opts.executable) {
        for (const script of step.run.matchAll(/(?:^|[\s;&|(])((?:\.\/)?ci\/[\w./-]+\.sh)\b/g)) {
          if (!opts.executable(script[1]!.replace(/^\.\//, '')))
            add(`${sat}.run`, `calls ${script[1]}, which is not an executable file of the repository`);
        }
      }
      if (typeof step.uses === 'string' && step.uses.startsWith('actions/deploy-pages@')) pagesJobIssues(job, at, add);
    });
    const { steps: _steps, ...rest } = job;
    reads(at, { ...rest, outputs: undefined, environment: undefined }, []);
    reads(`${at}.outputs`, job.outputs, stepIds, true);
    reads(`${at}.environment`, job.environment, stepIds, true);
  }
  return issues;
}

/** Every string inside a value, at any depth. */
function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (isMap(v)) return Object.values(v).flatMap(strings);
  return [];
}

/** Names of the inputs `workflow_dispatch` and `workflow_call` declare. */
function declaredInputs(on: unknown): string[] {
  if (!isMap(on)) return [];
  return ['workflow_dispatch', 'workflow_call'].flatMap((event) => {
    const cfg = on[event];
    return isMap(cfg) && isMap(cfg.inputs) ? Object.keys(cfg.inputs) : [];
  });
}

/** actions/deploy-pages needs pages: write, id-token: write and the github-pages environment. */
function pagesJobIssues(job: Record<string, unknown>, at: string, add: (p: string, m: string) => void): void {
  const perms = isMap(job.permissions) ? job.permissions : {};
  if (perms.pages !== 'write') add(`${at}.permissions.pages`, 'must be write for actions/deploy-pages');
  if (perms['id-token'] !== 'write') add(`${at}.permissions.id-token`, 'must be write for actions/deploy-pages');
  const env = isMap(job.environment) ? job.environment.name : job.environment;
  if (env !== 'github-pages') add(`${at}.environment`, 'must be github-pages for actions/deploy-pages');
}
