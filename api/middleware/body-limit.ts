/**
 * Request body limits, refused with 413 `request_too_large` before the body is read (or as soon
 * as a body without Content-Length passes the limit): each path prefix has its own size, and
 * every other path the default, which fits the JSON bodies of the API.
 */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { apiError } from '../errors.js';

export interface BodyLimitOptions {
  /** Bytes for any path without its own limit. */
  defaultMaxBytes: number;
  /** Path prefix → bytes; the longest matching prefix wins. */
  maxBytesByPath: Record<string, number>;
}

const tooLarge = () => {
  throw apiError(413, 'request_too_large', 'The request body is too large.');
};

export function requestBodyLimit({
  defaultMaxBytes,
  maxBytesByPath,
}: BodyLimitOptions): MiddlewareHandler {
  const limitOf = (maxSize: number) => {
    if (!Number.isInteger(maxSize) || maxSize <= 0) throw new RangeError('limits must be positive');
    return bodyLimit({ maxSize, onError: tooLarge });
  };
  const fallback = limitOf(defaultMaxBytes);
  const byPath = Object.entries(maxBytesByPath)
    .sort(([a], [b]) => b.length - a.length)
    .map(([prefix, maxSize]) => ({ prefix, limit: limitOf(maxSize) }));
  return async function requestBodyLimit(c, next) {
    // No body to limit; looking for one would make the Node adapter build a full Request.
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const limit = byPath.find(({ prefix }) => c.req.path.startsWith(prefix))?.limit ?? fallback;
    return limit(c, next);
  };
}
