/**
 * The base error class of nicmatrix, from the agent to the run record. It lives in a pure module
 * because `matrix/` and `reports/` must not import `harness/`; `harness/codec/errors.ts` re-exports it.
 */

/** Stable error codes: scripts and the run record rely on them, so never rename one. */
export const ERROR_CODES = [
  'USAGE',
  'TARGET_SPEC',
  'TARGET_SETUP',
  'PREREQUISITE',
  'COMMAND_FAILED',
  'SYSCALL',
  'AGENT',
  'AGENT_EXITED',
  /** The agent does not implement the action asked for (a native agent older than the controller's actions). */
  'UNSUPPORTED_ACTION',
  'TIMEOUT',
  'INTERRUPTED',
  'RECORD_INVALID',
  'RECORD_VERSION',
  'STORE',
  'CODEC',
  'GUEST',
  'PROFILE_INVALID',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === 'string' && (ERROR_CODES as readonly string[]).includes(v);
}

/**
 * Every error nicmatrix throws. `code` is stable; `message` says what was expected and what was
 * found; `details` carries facts for evidence (the file, the command, its stderr, the agent it came
 * from); the lower error is kept as `cause`.
 */
export class NicmatrixError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NicmatrixError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

export function isNicmatrixError(e: unknown, code?: ErrorCode): e is NicmatrixError {
  return e instanceof NicmatrixError && (code === undefined || e.code === code);
}

/** The code of any thrown value: a value that is not a `NicmatrixError` is a bug of ours, `INTERNAL`. */
export function errorCode(e: unknown): ErrorCode {
  return e instanceof NicmatrixError ? e.code : 'INTERNAL';
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
  return parts
    .filter((p, i) => {
      const prev = parts[i - 1];
      return prev === undefined || !prev.includes(p);
    })
    .join(': caused by: ');
}

/** What a failed read of a file means to its reader, from the errno. */
const READ_PROBLEMS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'a directory',
  ENOTDIR: 'a path through something that is not a directory',
  ELOOP: 'a symlink loop',
};

/**
 * The error for a file that could not be read: `what` names the option or
 * role ("--run x.json"), the errno is said in words once and kept in details.
 */
export function unreadableFile(what: string, path: string, e: unknown, code: ErrorCode = 'USAGE'): NicmatrixError {
  const errno = (e as NodeJS.ErrnoException | undefined)?.code;
  const found = errno ? `${READ_PROBLEMS[errno] ?? 'an unreadable file'} (${errno})` : `an unreadable file (${describeError(e)})`;
  return new NicmatrixError(code, `${what}: expected a readable file, found ${found}`, { details: { path, ...(errno ? { errno } : {}) } });
}
