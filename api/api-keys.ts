/**
 * API-key guard for calls that cost money or capacity (creating sessions). Keys come from
 * API_KEYS; with none configured (local development) the guard lets everything through.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { apiError } from './errors.js';
import { bearerToken } from './session-auth.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** The key a request presents: `Authorization: Bearer <key>`, or `X-API-Key: <key>`. */
export const presentedKey = (c: Context) =>
  bearerToken(c.req.header('authorization')) ?? c.req.header('x-api-key')?.trim();

/**
 * Which of `keys` a request presents, as a short stable id (a digest prefix, never the key), or
 * undefined when it presents none of them.
 */
export function identifyApiKey(keys: readonly string[]): (c: Context) => string | undefined {
  const accepted = keys.map(digest);
  return (c) => {
    const key = accepted.length > 0 ? presentedKey(c) : undefined;
    if (!key) return undefined;
    // Equal-length digests, compared in constant time, so the comparison leaks nothing.
    const presented = digest(key);
    const match = accepted.find((candidate) => timingSafeEqual(candidate, presented));
    return match?.toString('hex').slice(0, 16);
  };
}

/** Throws unless the request carries one of `keys` (any request passes when there are none). */
export function checkApiKey(keys: readonly string[]): (c: Context) => void {
  const identify = identifyApiKey(keys);
  return (c) => {
    if (keys.length === 0) return;
    if (!presentedKey(c)) {
      throw apiError(
        401,
        'api_key_required',
        'This call needs an API key: Authorization: Bearer <key>.',
      );
    }
    if (identify(c) === undefined) {
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
