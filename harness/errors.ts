import { NicmatrixError, type ErrorCode } from '../matrix/errors.js';

export { NicmatrixError, type ErrorCode };

export function isNicmatrixError(e: unknown, code?: ErrorCode): e is NicmatrixError {
  return e instanceof NicmatrixError && (code === undefined || e.code === code);
}

/** Message of any thrown value, with its cause chain, for records and terminals. */
export function describeError(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 5; depth++) {
    if (cur instanceof Error) {
      parts.push(cur.message);
      cur = (cur as { cause?: unknown }).cause;
    } else {
      parts.push(String(cur));
      break;
    }
  }
  return parts.filter((p, i) => i === 0 || !parts[i - 1].includes(p)).join(': caused by: ');
}

export function errorCode(e: unknown): ErrorCode {
  return e instanceof NicmatrixError ? e.code : 'INTERNAL';
}
