/**
 * HTTP errors: every failure a client sees is `{error: {code, message}, timestamp}` with a stable
 * code. Routes throw `apiError(...)`; `renderError` is the app's one error handler.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ErrorBody } from '../common/protocol.js';

export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
  ) {
    super(status, { message });
  }
}

export const apiError = (status: ContentfulStatusCode, code: string, message: string) =>
  new ApiError(status, code, message);

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message }, timestamp: new Date().toISOString() };
}

/**
 * Codes for the errors Hono raises on its own before a route runs (malformed JSON is a 400 from
 * its validator, a body of another media type a 415), so they read like the API's own.
 */
const codeForStatus: Partial<Record<number, string>> = {
  400: 'invalid_request',
  415: 'unsupported_media_type',
};

export function renderError(
  error: Error,
  c: Context,
  log: (error: Error) => void = () => {},
): Response {
  if (error instanceof ApiError) return c.json(errorBody(error.code, error.message), error.status);
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    const code = codeForStatus[status] ?? `http_${status}`;
    return c.json(errorBody(code, error.message || 'Request failed'), status);
  }
  log(error);
  return c.json(errorBody('internal_error', 'Internal server error'), 500);
}
