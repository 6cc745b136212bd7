/**
 * Who is calling, for rate limits and the cap on open sessions: the API key the request presents
 * (when it is one of API_KEYS), else the client's address. The address is the socket's, or with
 * TRUST_PROXY set the X-Forwarded-For entry that many proxies from the right: the entries left of
 * it are whatever the client chose to send.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import { identifyApiKey } from '../api-keys.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** `key:<digest prefix>` or `addr:<address>`. */
    client: string;
  }
}

export interface ClientOptions {
  apiKeys: readonly string[];
  /** Proxies in front of the API that append to X-Forwarded-For; 0 trusts none. */
  trustProxy: number;
}

/** The socket's address; requests that never came through a socket (tests) have none. */
function socketAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function clientAddress(c: Context, trustProxy: number): string {
  if (trustProxy === 0) return socketAddress(c);
  const forwarded = (c.req.header('x-forwarded-for') ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  return forwarded.at(-trustProxy) ?? socketAddress(c);
}

export function identifyClient({ apiKeys, trustProxy }: ClientOptions): MiddlewareHandler {
  if (!Number.isInteger(trustProxy) || trustProxy < 0) {
    throw new RangeError('trustProxy must be a whole number of proxies');
  }
  const apiKeyOf = identifyApiKey(apiKeys);
  return async function identifyClient(c, next) {
    const key = apiKeyOf(c);
    c.set('client', key ? `key:${key}` : `addr:${clientAddress(c, trustProxy)}`);
    return next();
  };
}
