/**
 * The one base error class of nicmatrix lives here, in a pure module, because
 * `matrix/` and `reports/` must not import `harness/` at run time;
 * `harness/errors.ts` re-exports it. `MatrixError` is the matrix's kind of it.
 */

/** Stable error codes: scripts and the run record rely on them, so never rename one. */
export type ErrorCode =
  | 'USAGE'
  | 'TARGET_SPEC'
  | 'TARGET_SETUP'
  | 'PREREQUISITE'
  | 'COMMAND_FAILED'
  | 'SYSCALL'
  | 'AGENT'
  | 'AGENT_EXITED'
  | 'TIMEOUT'
  | 'INTERRUPTED'
  | 'RECORD_INVALID'
  | 'RECORD_VERSION'
  | 'STORE'
  | 'CODEC'
  | 'GUEST'
  | 'PROFILE_INVALID'
  | 'INTERNAL';

/**
 * The one error class of nicmatrix. `code` is stable; `message` says what was
 * expected and what was found; the lower error is kept as `cause`.
 */
export class NicmatrixError extends Error {
  readonly code: ErrorCode;
  /** Extra facts for evidence (the command, its stderr, the console tail...). */
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NicmatrixError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** The codes the matrix and reports can raise. */
export type MatrixErrorCode = Extract<ErrorCode, 'RECORD_INVALID' | 'RECORD_VERSION' | 'STORE'>;

/** An error of the store, validation or migration; `details` names the file, the JSON pointers, the run id. */
export class MatrixError extends NicmatrixError {
  declare readonly code: MatrixErrorCode;

  constructor(code: MatrixErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, options);
    this.name = 'MatrixError';
  }
}

export function isMatrixError(e: unknown, code?: MatrixErrorCode): e is MatrixError {
  return e instanceof MatrixError && (code === undefined || e.code === code);
}
