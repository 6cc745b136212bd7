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

export function renderError(
  error: Error,
  c: Context,
  log: (error: Error) => void = () => {},
): Response {
  if (error instanceof ApiError) return c.json(errorBody(error.code, error.message), error.status);
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    return c.json(errorBody(`http_${status}`, error.message || 'Request failed'), status);
  }
  log(error);
  return c.json(errorBody('internal_error', 'Internal server error'), 500);
}
