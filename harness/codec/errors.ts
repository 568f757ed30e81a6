/** The harness's door to the one error class, which lives in the pure core (`matrix/errors.ts`). */
export {
  describeError,
  ERROR_CODES,
  errorCode,
  isErrorCode,
  isNicmatrixError,
  NicmatrixError,
  unreadableFile,
  type ErrorCode,
} from '../../matrix/errors.js';
