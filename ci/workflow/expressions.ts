/**
 * GitHub Actions `${{ }}` expressions on GitHub's own lexer, parser and evaluator
 * (`@actions/expressions`): the context paths an expression reads (for the workflow
 * check) and its value (for the local lab simulation in test/helpers/).
 */
import { data, Evaluator, Lexer, Parser, type Expr } from '@actions/expressions';
import { ContextAccess, FunctionCall, IndexAccess, Literal } from '@actions/expressions/ast';
import type { FunctionDefinition } from '@actions/expressions/funcs/info';
import { NicmatrixError } from '../../matrix/errors.js';

/** What an expression can read: contexts by name, and the job status for the status functions. */
export interface ExpressionScope {
  contexts: Record<string, unknown>;
  /** `success` until a step or needed job failed. */
  status?: 'success' | 'failure' | 'cancelled';
}

/** The contexts a workflow may name; GitHub's parser refuses any other. */
export const CONTEXTS = ['github', 'env', 'vars', 'job', 'jobs', 'steps', 'runner', 'secrets', 'strategy', 'matrix', 'needs', 'inputs'];
const STATUS_FUNCTIONS = ['always', 'success', 'failure', 'cancelled'];

/** The text inside every `${{ … }}` of a string. */
export function findExpressions(text: string): string[] {
  return [...text.matchAll(/\$\{\{([\s\S]*?)\}\}/g)].map((m) => m[1]!.trim());
}

function parse(src: string): Expr {
  try {
    const { tokens } = new Lexer(src).lex();
    return new Parser(
      tokens,
      CONTEXTS,
      STATUS_FUNCTIONS.map((name) => ({ name, minArgs: 0, maxArgs: 0 })),
    ).parse();
  } catch (e) {
    throw new NicmatrixError('USAGE', `expression "${src}": ${(e as Error).message}`, { cause: e });
  }
}

/** `a.b['c']` as `a.b.c` (an index that is not a literal as `*`), or undefined for anything but a context path. */
function pathOf(e: Expr): string | undefined {
  if (e instanceof ContextAccess) return e.name.lexeme;
  if (e instanceof IndexAccess) {
    const base = pathOf(e.expr);
    if (base === undefined) return undefined;
    return `${base}.${e.index instanceof Literal ? e.index.literal.coerceString() : '*'}`;
  }
  return undefined;
}

/** The context paths an expression reads, e.g. `needs.plan.outputs.labels`; functions and literals are not paths. */
export function contextRefs(src: string): string[] {
  const refs: string[] = [];
  const walk = (e: Expr | undefined): void => {
    if (!e) return;
    const path = pathOf(e);
    if (path !== undefined) return void refs.push(path);
    if (e instanceof FunctionCall) return e.args.forEach(walk);
    if (e instanceof IndexAccess) return (walk(e.expr), walk(e.index));
    const node = e as unknown as { expr?: Expr; group?: Expr; left?: Expr; right?: Expr; args?: Expr[] };
    [node.expr, node.group, node.left, node.right, ...(node.args ?? [])].forEach(walk);
  };
  walk(parse(src));
  return refs;
}

/** Evaluates an expression (without `${{ }}`) with GitHub's evaluator; the status functions read `scope.status`. */
export function evaluate(src: string, scope: ExpressionScope): unknown {
  const status = scope.status ?? 'success';
  const statusFn = (name: string, holds: boolean): FunctionDefinition => ({
    name,
    minArgs: 0,
    maxArgs: 0,
    call: () => new data.BooleanData(holds),
  });
  const functions = new Map<string, FunctionDefinition>(
    [
      statusFn('always', true),
      statusFn('success', status === 'success'),
      statusFn('failure', status === 'failure'),
      statusFn('cancelled', status === 'cancelled'),
    ].map((f) => [f.name.toLowerCase(), f]),
  );
  const contexts = JSON.parse(JSON.stringify(scope.contexts), data.reviver) as data.Dictionary;
  let result: data.ExpressionData;
  try {
    result = new Evaluator(parse(src), contexts, functions).evaluate();
  } catch (e) {
    if (e instanceof NicmatrixError) throw e;
    throw new NicmatrixError('USAGE', `expression "${src}": ${(e as Error).message}`, { cause: e });
  }
  return JSON.parse(JSON.stringify(result, data.replacer)) as unknown;
}

function truthy(v: unknown): boolean {
  return !(v === false || v === 0 || v === '' || v === null || v === undefined || Number.isNaN(v));
}

/** Whether a job or step `if:` holds; a bare expression may omit `${{ }}`, and status functions default to success(). */
export function condition(text: string | boolean | undefined, scope: ExpressionScope): boolean {
  if (text === undefined) return (scope.status ?? 'success') === 'success';
  if (typeof text === 'boolean') return text;
  const expr = findExpressions(text)[0] ?? text;
  const usesStatus = /\b(always|success|failure|cancelled)\s*\(/i.test(expr);
  const holds = truthy(evaluate(expr, scope));
  return usesStatus ? holds : holds && (scope.status ?? 'success') === 'success';
}

/** A string with every `${{ }}` replaced by its value (objects as JSON). */
export function interpolate(text: string, scope: ExpressionScope): string {
  return text.replace(/\$\{\{([\s\S]*?)\}\}/g, (_m, e: string) => {
    const v = evaluate(e.trim(), scope);
    return v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
}
