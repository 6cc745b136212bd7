/**
 * API-key guard for calls that cost money or capacity (creating sessions). Keys come from
 * API_KEYS; with none configured (local development) the guard lets everything through.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { apiError } from './errors.js';
import { bearerToken } from './session-auth.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Throws unless the request carries one of `keys` (any request passes when there are none). */
export function checkApiKey(keys: readonly string[]): (c: Context) => void {
  const accepted = keys.map(digest);
  return (c) => {
    if (accepted.length === 0) return;
    // `Authorization: Bearer <key>`, or `X-API-Key: <key>`.
    const key = bearerToken(c.req.header('authorization')) ?? c.req.header('x-api-key')?.trim();
    if (!key) {
      throw apiError(
        401,
        'api_key_required',
        'This call needs an API key: Authorization: Bearer <key>.',
      );
    }
    // Equal-length digests, compared in constant time, so the comparison leaks nothing.
    const presented = digest(key);
    if (!accepted.some((candidate) => timingSafeEqual(candidate, presented))) {
      throw apiError(401, 'invalid_api_key', 'The API key is not valid.');
    }
  };
}

export function requireApiKey(keys: readonly string[]): MiddlewareHandler {
  const check = checkApiKey(keys);
  return async function requireApiKey(c, next) {
    check(c);
    return next();
  };
}
