/**
 * Rate limits: at most `limit` requests per window for each key (a client, a session), answered
 * past that with 429 `rate_limited` and `Retry-After`. Counting is hono-rate-limiter's: in memory
 * for one API process, or in Redis (its RedisStore, with REDIS_URL) so that several replicas share
 * the counts and a client cannot multiply its limit by the replicas behind the load balancer.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { MemoryStore, RedisStore, rateLimiter } from 'hono-rate-limiter';
import type { Redis } from 'ioredis';
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
  /** Counts in this Redis, under `va:rl:<what>:`, instead of in this process. */
  redis?: Redis | undefined;
}

/** hono-rate-limiter's Redis client, on ioredis. */
const redisStore = (redis: Redis, what: string) =>
  new RedisStore({
    prefix: `va:rl:${what.replaceAll(' ', '-')}:`,
    client: {
      scriptLoad: async (script) => String(await redis.script('LOAD', script)),
      evalsha: (sha, keys, args) =>
        redis.evalsha(sha, keys.length, ...keys, ...(args as string[])) as never,
      decr: (key) => redis.decr(key),
      del: (key) => redis.del(key),
    },
  });

const passThrough: MiddlewareHandler = async function noRateLimit(_c, next) {
  return next();
};

export function rateLimit({
  what,
  limit,
  windowMs,
  keyOf,
  redis,
}: RateLimitOptions): MiddlewareHandler {
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
    store: redis ? redisStore(redis, what) : new MemoryStore(),
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
