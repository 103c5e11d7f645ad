export {
  bodyChunks,
  bodyLimit,
  bodyLimitExceeded,
  DEFAULT_MESSAGE_BYTES,
  DRAIN_MAX_BYTES,
  defaultBodyLimit,
  isJsonType,
  readBody,
  readJson,
} from "./body-limit.js";
export {
  BodyTooLargeError,
  codeForStatus,
  type ErrorBody,
  errorBody,
  GENERIC_CODES,
  type GenericCode,
  HttpError,
  type HttpErrorOptions,
  httpError,
} from "./errors.js";
export {
  type EdgeLogger,
  type ErrorHandlerOptions,
  edgeApp,
  edgeLogger,
  edgeLoggerOf,
  errorHandler,
  notFoundHandler,
} from "./on-error.js";
export {
  binaryResponse,
  type ErrorResponse,
  ErrorSchema,
  type ErrorStatus,
  errorResponse,
  errorResponses,
  jsonBody,
  jsonResponse,
  type ValidationResult,
  validationError,
  validationHook,
} from "./openapi.js";
