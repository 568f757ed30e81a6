/**
 * GitHub Actions `${{ }}` expressions, the part our workflows use (pure):
 * finding them, listing the contexts they read, and evaluating them for the
 * local simulator — literals, context paths, `!`, `==`/`!=`, `&&`/`||`,
 * parentheses and the functions fromJSON, toJSON, always, success, failure,
 * cancelled, contains, startsWith, format. Anything else is an error, never a guess.
 */

/** What an expression can read: contexts by name, and the job status for the status functions. */
export interface ExpressionScope {
  contexts: Record<string, unknown>;
  /** `success` until a step or needed job failed. */
  status?: 'success' | 'failure' | 'cancelled';
}

/** The text inside every `${{ … }}` of a string. */
export function findExpressions(text: string): string[] {
  return [...text.matchAll(/\$\{\{([\s\S]*?)\}\}/g)].map((m) => m[1].trim());
}

/** The context paths an expression reads, e.g. `needs.plan.outputs.labels`, string literals ignored. */
export function contextRefs(expr: string): string[] {
  const code = expr.replace(/'(?:[^']|'')*'/g, "''");
  const refs = [...code.matchAll(/(?<![\w.-])([A-Za-z_][\w-]*(?:\.[A-Za-z_*][\w-]*|\[[^\]]*\])*)(?![\w-])(\s*\()?/g)]
    .filter((m) => m[2] === undefined)
    .map((m) => m[1].replace(/\[[^\]]*\]/g, '.*'));
  return refs.filter((r) => !['true', 'false', 'null'].includes(r));
}

type Token = { kind: 'str' | 'num' | 'id' | 'op' | 'punct'; text: string; value?: unknown };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:('(?:[^']|'')*')|(-?\d+(?:\.\d+)?)|([A-Za-z_][\w-]*)|(==|!=|&&|\|\||<=|>=|[!<>])|([().,[\]*]))/y;
  let i = 0;
  while (i < src.length) {
    if (/^\s*$/.test(src.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(src);
    if (!m) throw new SyntaxError(`expression "${src}": cannot read at "${src.slice(i)}"`);
    i = re.lastIndex;
    if (m[1] !== undefined) out.push({ kind: 'str', text: m[1], value: m[1].slice(1, -1).replace(/''/g, "'") });
    else if (m[2] !== undefined) out.push({ kind: 'num', text: m[2], value: Number(m[2]) });
    else if (m[3] !== undefined) out.push({ kind: 'id', text: m[3] });
    else if (m[4] !== undefined) out.push({ kind: 'op', text: m[4] });
    else out.push({ kind: 'punct', text: m[5] });
  }
  return out;
}

const truthy = (v: unknown): boolean => !(v === false || v === 0 || v === '' || v === null || v === undefined || Number.isNaN(v));
const loose = (a: unknown, b: unknown): boolean =>
  typeof a === 'string' && typeof b === 'string' ? a.toLowerCase() === b.toLowerCase() : a === b || (a == null && b == null);

/** Evaluates one expression (without the `${{ }}`). */
export function evaluate(src: string, scope: ExpressionScope): unknown {
  const tokens = tokenize(src);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const take = (text?: string): Token => {
    const t = tokens[pos++];
    if (!t || (text !== undefined && t.text !== text))
      throw new SyntaxError(`expression "${src}": expected ${text ?? 'more'}, found ${t?.text ?? 'the end'}`);
    return t;
  };
  const call = (name: string, args: unknown[]): unknown => {
    const status = scope.status ?? 'success';
    switch (name.toLowerCase()) {
      case 'always':
        return true;
      case 'success':
        return status === 'success';
      case 'failure':
        return status === 'failure';
      case 'cancelled':
        return status === 'cancelled';
      case 'fromjson':
        return JSON.parse(String(args[0]));
      case 'tojson':
        return JSON.stringify(args[0], null, 2);
      case 'contains':
        return Array.isArray(args[0])
          ? args[0].some((x) => loose(x, args[1]))
          : String(args[0]).toLowerCase().includes(String(args[1]).toLowerCase());
      case 'startswith':
        return String(args[0]).toLowerCase().startsWith(String(args[1]).toLowerCase());
      case 'format':
        return String(args[0]).replace(/\{(\d+)\}/g, (_m, i: string) => String(args[Number(i) + 1]));
      default:
        throw new SyntaxError(`expression "${src}": function ${name} is not supported by the simulator`);
    }
  };
  const primary = (): unknown => {
    const t = take();
    if (t.kind === 'str' || t.kind === 'num') return t.value;
    if (t.text === '(') {
      const v = or();
      take(')');
      return v;
    }
    if (t.text === '!') return !truthy(primary());
    if (t.kind !== 'id') throw new SyntaxError(`expression "${src}": unexpected ${t.text}`);
    if (t.text === 'true' || t.text === 'false') return t.text === 'true';
    if (t.text === 'null') return null;
    if (peek()?.text === '(') {
      take('(');
      const args: unknown[] = [];
      while (peek()?.text !== ')') {
        args.push(or());
        if (peek()?.text === ',') take(',');
      }
      take(')');
      return call(t.text, args);
    }
    let v: unknown = Object.hasOwn(scope.contexts, t.text) ? scope.contexts[t.text] : undefined;
    while (peek()?.text === '.' || peek()?.text === '[') {
      const key =
        take().text === '.'
          ? take().text
          : (() => {
              const k = or();
              take(']');
              return String(k);
            })();
      v = v !== null && typeof v === 'object' && Object.hasOwn(v, key) ? (v as Record<string, unknown>)[key] : undefined;
    }
    return v;
  };
  const compare = (): unknown => {
    let v = primary();
    while (peek()?.text === '==' || peek()?.text === '!=') {
      const op = take().text;
      const w = primary();
      v = op === '==' ? loose(v, w) : !loose(v, w);
    }
    return v;
  };
  const and = (): unknown => {
    let v = compare();
    while (peek()?.text === '&&') {
      take();
      const w = compare();
      v = truthy(v) ? w : v;
    }
    return v;
  };
  function or(): unknown {
    let v = and();
    while (peek()?.text === '||') {
      take();
      const w = and();
      v = truthy(v) ? v : w;
    }
    return v;
  }
  const result = or();
  if (pos !== tokens.length) throw new SyntaxError(`expression "${src}": unexpected ${tokens[pos].text}`);
  return result;
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
