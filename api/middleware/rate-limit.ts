/**
 * Rate limits: at most `limit` requests per window for each key (a client, a session), answered
 * past that with 429 `rate_limited` and `Retry-After`. Counting is hono-rate-limiter's; its
 * in-memory store serves one API process, and its RedisStore takes that place when several
 * replicas must share the counts.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { MemoryStore, rateLimiter } from 'hono-rate-limiter';
import { respondWithError } from '../errors.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** Set by hono-rate-limiter for the last limit a request went through. */
    rateLimit: { limit: number; used: number; remaining: number; resetTime: Date | undefined };
  }
}

export interface RateLimitOptions {
  /** What is limited, for the 429 message: "sessions opened", "chat messages". */
  what: string;
  /** Requests per window for one key; 0 turns the limit off. */
  limit: number;
  windowMs: number;
  /** The counter a request counts against; undefined leaves the request to other limits. */
  keyOf: (c: Context) => string | undefined | Promise<string | undefined>;
}

const passThrough: MiddlewareHandler = async function noRateLimit(_c, next) {
  return next();
};

export function rateLimit({ what, limit, windowMs, keyOf }: RateLimitOptions): MiddlewareHandler {
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError('limit must be 0 or more');
  if (!(windowMs > 0)) throw new RangeError('windowMs must be positive');
  if (limit === 0) return passThrough;
  // The key is worked out once per request: `skip` and `keyGenerator` both need it.
  const keys = new WeakMap<Context, Promise<string | undefined>>();
  const keyFor = (c: Context) => {
    let key = keys.get(c);
    if (!key) {
      key = Promise.resolve(keyOf(c));
      keys.set(c, key);
    }
    return key;
  };
  return rateLimiter({
    windowMs,
    limit,
    store: new MemoryStore(),
    standardHeaders: false,
    skip: async (c) => (await keyFor(c)) === undefined,
    keyGenerator: async (c) => (await keyFor(c)) ?? '',
    handler: (c) => {
      const resetAt = c.get('rateLimit').resetTime?.getTime() ?? Date.now() + windowMs;
      const retryAfterS = Math.max(1, Math.ceil((resetAt - Date.now()) / 1000));
      const message = `Too many ${what}; try again in ${retryAfterS} s.`;
      return respondWithError(c, 429, 'rate_limited', message, {
        'retry-after': String(retryAfterS),
      });
    },
  });
}
