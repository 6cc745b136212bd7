/**
 * API-key guard for calls that cost money or capacity (creating sessions). Keys come from
 * API_KEYS; with none configured (local development) the guard lets everything through.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { apiError } from './errors.js';
import { bearerToken } from './session-auth.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

export function requireApiKey(keys: readonly string[]): MiddlewareHandler {
  const accepted = keys.map(digest);
  return async function requireApiKey(c, next) {
    if (accepted.length === 0) return next();
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
    return next();
  };
}
