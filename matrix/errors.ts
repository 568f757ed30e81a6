/**
 * The matrix's own error. `matrix/` must not import `harness/` at run time, so
 * it cannot throw `NicmatrixError`; this class carries the same stable `code`
 * (a subset of `ErrorCode`), `details` and `cause`, and the CLI converts it
 * with `new NicmatrixError(e.code, e.message, { cause: e, details: e.details })`.
 */
import type { ErrorCode } from '../harness/errors.js';

/** The codes the matrix and reports can raise. */
export type MatrixErrorCode = Extract<ErrorCode, 'RECORD_INVALID' | 'RECORD_VERSION' | 'STORE'>;

export class MatrixError extends Error {
  readonly code: MatrixErrorCode;
  /** Extra facts: the file, the JSON pointers of bad fields, the run id. */
  readonly details: Record<string, unknown>;

  constructor(code: MatrixErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MatrixError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

export function isMatrixError(e: unknown, code?: MatrixErrorCode): e is MatrixError {
  return e instanceof MatrixError && (code === undefined || e.code === code);
}
