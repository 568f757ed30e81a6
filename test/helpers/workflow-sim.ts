/**
 * Runs a GitHub Actions workflow locally, the way a runner would but with
 * every job on this host: jobs in `needs` order, matrix jobs once per value,
 * job and step `if:`, `env` at every level, `$GITHUB_OUTPUT`, job outputs,
 * and each `run:` through bash in a fresh workspace (a checkout made of
 * links to the repository). The few actions the lab workflow uses are
 * emulated (checkout, setup-node, upload/download-artifact, cache
 * restore/save, configure/upload/deploy-pages); any other is an error.
 * The site the workflow would publish lands in `pagesDir`.
 */
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { condition, evaluate, interpolate, type ExpressionScope } from '../../ci/workflow/expressions.js';

export interface SimulateOptions {
  /** The repository the workflow belongs to (what actions/checkout gives). */
  repoRoot: string;
  /** Scratch directory: workspaces, artifacts, cache, pages. */
  workdir: string;
  vars?: Record<string, string>;
  inputs?: Record<string, string>;
  /** `run:` scripts already done on this host (e.g. `npm ci`): skipped, not run. */
  prepared?: string[];
  /** Extra environment for every step. */
  env?: Record<string, string>;
  log?: (line: string) => void;
}

export interface StepOutcome {
  name: string;
  result: 'success' | 'failure' | 'skipped';
  exitCode?: number;
  output?: string;
}

export interface JobOutcome {
  id: string;
  matrix?: Record<string, unknown>;
  result: 'success' | 'failure' | 'skipped';
  steps: StepOutcome[];
  outputs: Record<string, string>;
}

export interface Simulation {
  jobs: JobOutcome[];
  artifactsDir: string;
  cacheDir: string;
  pagesDir: string;
  pageUrl?: string;
}

type Map_ = Record<string, unknown>;
const asMap = (v: unknown): Map_ => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Map_) : {});
const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

function copy(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.cpSync(from, to, { recursive: true });
}

/** Jobs in an order where every job comes after the jobs it needs. */
function jobOrder(jobs: Map_): string[] {
  const order: string[] = [];
  const visit = (id: string) => {
    if (order.includes(id)) return;
    for (const n of list(asMap(jobs[id]).needs)) visit(n);
    order.push(id);
  };
  Object.keys(jobs).forEach(visit);
  return order;
}

export async function simulateWorkflow(file: string, opts: SimulateOptions): Promise<Simulation> {
  const doc = asMap(parse(fs.readFileSync(file, 'utf8')));
  const log = opts.log ?? (() => undefined);
  const sim: Simulation = {
    jobs: [],
    artifactsDir: path.join(opts.workdir, 'artifacts'),
    cacheDir: path.join(opts.workdir, 'cache'),
    pagesDir: path.join(opts.workdir, 'pages'),
  };
  const github = {
    run_id: `${Date.now()}`,
    workflow: String(doc.name ?? ''),
    event_name: 'workflow_dispatch',
    repository: 'local/simulation',
  };
  const base = { github, vars: opts.vars ?? {}, inputs: opts.inputs ?? {}, env: {} as Record<string, string> };
  for (const [k, v] of Object.entries(asMap(doc.env))) base.env[k] = interpolate(String(v), { contexts: base });
  const jobs = asMap(doc.jobs);
  const finished = new Map<string, { result: string; outputs: Record<string, string> }>();
  let run = 0;
  for (const id of jobOrder(jobs)) {
    const job = asMap(jobs[id]);
    const needs = Object.fromEntries(list(job.needs).map((n) => [n, finished.get(n) ?? { result: 'skipped', outputs: {} }]));
    const needStatus = Object.values(needs).every((n) => n.result === 'success') ? 'success' : 'failure';
    const jobScope: ExpressionScope = { contexts: { ...base, needs }, status: needStatus };
    const matrixSpec = asMap(asMap(job.strategy).matrix);
    const combos = Object.keys(matrixSpec).length === 0 ? [undefined] : expandMatrix(matrixSpec, jobScope);
    const outcomes: JobOutcome[] = [];
    for (const matrix of combos) {
      const scope: ExpressionScope = { ...jobScope, contexts: { ...jobScope.contexts, ...(matrix ? { matrix, strategy: {} } : {}) } };
      const outcome: JobOutcome = { id, matrix, result: 'skipped', steps: [], outputs: {} };
      outcomes.push(outcome);
      if (!condition(job.if as string | undefined, scope)) {
        log(`job ${id}${matrix ? ` ${JSON.stringify(matrix)}` : ''}: skipped (if: ${String(job.if)})`);
        continue;
      }
      await runJob(job, outcome, scope, opts, sim, `${id}-${++run}`, log);
    }
    sim.jobs.push(...outcomes);
    const result = outcomes.some((o) => o.result === 'failure')
      ? 'failure'
      : outcomes.every((o) => o.result === 'skipped')
        ? 'skipped'
        : 'success';
    finished.set(id, { result, outputs: Object.assign({}, ...outcomes.map((o) => o.outputs)) as Record<string, string> });
  }
  return sim;
}

function expandMatrix(spec: Map_, scope: ExpressionScope): Record<string, unknown>[] {
  let combos: Record<string, unknown>[] = [{}];
  for (const [key, raw] of Object.entries(spec)) {
    const values = typeof raw === 'string' ? evaluate(raw.replace(/^\$\{\{|\}\}$/g, '').trim(), scope) : raw;
    if (!Array.isArray(values)) throw new Error(`matrix.${key}: expected a list, found ${JSON.stringify(values)}`);
    combos = combos.flatMap((c) => values.map((v: unknown) => ({ ...c, [key]: v })));
  }
  return combos;
}

async function runJob(
  job: Map_,
  outcome: JobOutcome,
  jobScope: ExpressionScope,
  opts: SimulateOptions,
  sim: Simulation,
  name: string,
  log: (l: string) => void,
): Promise<void> {
  const workspace = path.join(opts.workdir, 'runners', name);
  fs.mkdirSync(workspace, { recursive: true });
  const steps: Map_ = {};
  let status: 'success' | 'failure' = 'success';
  const contexts = () => ({ ...jobScope.contexts, steps, env: { ...(jobScope.contexts.env as Map_), ...jobEnv } });
  const jobEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(asMap(job.env))) jobEnv[k] = interpolate(String(v), { contexts: contexts() });
  for (const [i, raw] of (job.steps as unknown[]).entries()) {
    const step = asMap(raw);
    const scope: ExpressionScope = { contexts: contexts(), status };
    // split gives one piece at least.
    const label = interpolate(String(step.name ?? step.uses ?? step.run ?? `step ${i}`), scope).split('\n')[0]!;
    if (!condition(step.if as string | undefined, scope)) {
      outcome.steps.push({ name: label, result: 'skipped' });
      continue;
    }
    const env: Record<string, string> = { ...(scope.contexts.env as Record<string, string>) };
    for (const [k, v] of Object.entries(asMap(step.env))) env[k] = interpolate(String(v), scope);
    const withs = Object.fromEntries(Object.entries(asMap(step.with)).map(([k, v]) => [k, interpolate(String(v), scope)]));
    const out: Record<string, string> = {};
    let ok = true;
    if (typeof step.run === 'string') {
      const script = interpolate(step.run, scope);
      if ((opts.prepared ?? []).includes(script.trim())) {
        outcome.steps.push({ name: label, result: 'skipped', output: 'prepared on this host' });
        continue;
      }
      const outputFile = path.join(workspace, `.output-${i}`);
      fs.writeFileSync(outputFile, '');
      const r = await execa('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
        cwd: workspace,
        reject: false,
        stdin: 'ignore',
        all: true,
        env: { ...opts.env, ...env, CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_OUTPUT: outputFile, GITHUB_WORKSPACE: workspace },
      });
      for (const line of fs.readFileSync(outputFile, 'utf8').split('\n')) {
        const eq = line.indexOf('=');
        if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
      }
      ok = r.exitCode === 0;
      outcome.steps.push({ name: label, result: ok ? 'success' : 'failure', exitCode: r.exitCode, output: r.all });
      log(`  ${ok ? 'ok  ' : 'FAIL'} ${label} (exit ${r.exitCode})`);
    } else {
      Object.assign(out, emulateAction(String(step.uses), withs, workspace, opts, sim));
      outcome.steps.push({ name: label, result: 'success' });
    }
    if (typeof step.id === 'string')
      steps[step.id] = { outputs: out, outcome: ok ? 'success' : 'failure', conclusion: ok ? 'success' : 'failure' };
    if (!ok && step['continue-on-error'] !== true) status = 'failure';
  }
  outcome.result = status;
  for (const [k, v] of Object.entries(asMap(job.outputs))) outcome.outputs[k] = interpolate(String(v), { contexts: contexts(), status });
}

/** The actions the lab workflow uses, done locally; returns the step's outputs. */
function emulateAction(
  uses: string,
  withs: Record<string, string>,
  workspace: string,
  opts: SimulateOptions,
  sim: Simulation,
): Record<string, string> {
  const action = uses.replace(/@.*$/, '');
  const input = (name: string): string => {
    const v = withs[name];
    if (v === undefined) throw new Error(`${action}: expected the input "${name}" in with:, found none`);
    return v;
  };
  switch (action) {
    case 'actions/checkout':
      // A checkout made of links: scripts find the repository through them, outputs stay in the workspace.
      for (const entry of ['bin', 'ci', 'dist', 'node_modules', 'package.json', '.github']) {
        if (fs.existsSync(path.join(opts.repoRoot, entry))) fs.symlinkSync(path.join(opts.repoRoot, entry), path.join(workspace, entry));
      }
      return {};
    case 'actions/setup-node':
    case 'actions/configure-pages':
      return {};
    case 'actions/upload-artifact': {
      const from = path.resolve(workspace, input('path'));
      if (fs.existsSync(from)) copy(from, path.join(sim.artifactsDir, input('name')));
      else if (withs['if-no-files-found'] === 'error') throw new Error(`upload-artifact: nothing at ${withs.path}`);
      return {};
    }
    case 'actions/download-artifact': {
      const pattern = new RegExp(`^${(withs.pattern ?? withs.name ?? '*').replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
      const names = fs.existsSync(sim.artifactsDir) ? fs.readdirSync(sim.artifactsDir).filter((n) => pattern.test(n)) : [];
      for (const n of names)
        copy(path.join(sim.artifactsDir, n), path.join(workspace, withs.path ?? '.', withs['merge-multiple'] === 'true' ? '' : n));
      return {};
    }
    case 'actions/cache/restore': {
      const keys = fs.existsSync(sim.cacheDir) ? fs.readdirSync(sim.cacheDir).sort() : [];
      const key = input('key');
      const hit = keys.includes(key)
        ? key
        : keys.filter((k) => (withs['restore-keys'] ?? '').split('\n').some((p) => p.trim() && k.startsWith(p.trim()))).at(-1);
      if (hit) copy(path.join(sim.cacheDir, hit), path.join(workspace, input('path')));
      return { 'cache-hit': String(hit === key), 'cache-matched-key': hit ?? '' };
    }
    case 'actions/cache/save': {
      const from = path.join(workspace, input('path'));
      if (fs.existsSync(from)) copy(from, path.join(sim.cacheDir, input('key')));
      return {};
    }
    case 'actions/upload-pages-artifact':
      fs.rmSync(sim.pagesDir, { recursive: true, force: true });
      copy(path.resolve(workspace, input('path')), sim.pagesDir);
      return {};
    case 'actions/deploy-pages':
      sim.pageUrl = `file://${sim.pagesDir}/index.html`;
      return { page_url: sim.pageUrl };
    default:
      throw new Error(`the simulator does not know the action ${uses}`);
  }
}
