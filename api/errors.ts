/**
 * HTTP errors: every failure a client sees is `{error: {code, message}, timestamp}` with a stable
 * code. Routes throw `apiError(...)`; `renderError` is the app's one error handler.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ApiErrorCode, ErrorBody } from '../common/protocol.js';
import { StoreUnavailableError } from './store/types.js';

export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: ApiErrorCode,
    message: string,
    /** What went wrong underneath, for the log only: clients see `code` and `message`. */
    options: { cause?: unknown } = {},
  ) {
    super(status, { message, ...options });
  }
}

export const apiError = (
  status: ContentfulStatusCode,
  code: ApiErrorCode,
  message: string,
  options?: { cause?: unknown },
) => new ApiError(status, code, message, options);

export function errorBody(code: ApiErrorCode, message: string): ErrorBody {
  return { error: { code, message }, timestamp: new Date().toISOString() };
}

/** Answers with the JSON error, and notes its code for the request metrics. */
export function respondWithError(
  c: Context,
  status: ContentfulStatusCode,
  code: ApiErrorCode,
  message: string,
  headers?: Record<string, string>,
): Response {
  c.set('errorCode', code);
  return c.json(errorBody(code, message), status, headers);
}

/**
 * Codes for the errors Hono raises on its own before a route runs (malformed JSON is a 400 from
 * its validator, a body of another media type a 415), so they read like the API's own. Codes are
 * a closed set (API_ERROR_CODES): a status without its own code gets the general one of its class.
 */
const codeForStatus: Partial<Record<number, ApiErrorCode>> = {
  400: 'invalid_request',
  415: 'unsupported_media_type',
};

/** What a client is told of a failure; `unexpected` ones (a bug, not a refusal) are for the log. */
export interface PublicError {
  status: ContentfulStatusCode;
  code: ApiErrorCode;
  message: string;
  unexpected: boolean;
}

export function publicError(error: Error): PublicError {
  if (error instanceof ApiError) {
    return { status: error.status, code: error.code, message: error.message, unexpected: false };
  }
  if (error instanceof StoreUnavailableError) {
    const message = 'The session store is unavailable; try again.';
    return { status: 503, code: 'store_unavailable', message, unexpected: false };
  }
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    const code = codeForStatus[status] ?? (status >= 500 ? 'internal_error' : 'invalid_request');
    return { status, code, message: error.message || 'Request failed', unexpected: false };
  }
  return {
    status: 500,
    code: 'internal_error',
    message: 'Internal server error',
    unexpected: true,
  };
}

export function renderError(
  error: Error,
  c: Context,
  log: (error: Error) => void = () => {},
): Response {
  const { status, code, message, unexpected } = publicError(error);
  if (unexpected) log(error);
  return respondWithError(c, status, code, message);
}
