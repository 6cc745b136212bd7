/**
 * Where the abuse limits apply: body sizes on every route, and rate limits on what costs capacity
 * or money. Opening a session (`POST /api/sessions`, or `/api/chat` without a session token)
 * counts per client, and when the call page opens it without an API key (PAGE_SESSIONS=open) also
 * against the page's stricter limit; chat counts per client and per session; `/health` and
 * `/api/models`, which anyone may call and which ask an upstream (LiveKit, the LLM endpoint), count
 * per client. Clients are told apart by `identifyClient`; a session by its verified session token.
 */

import type { Context, MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import type { ApiConfig } from '../config.js';
import { isPageRequest } from '../page-access.js';
import { presentedSessionToken } from '../session-auth.js';
import type { SessionTokens } from '../session-tokens.js';
import { requestBodyLimit } from './body-limit.js';
import { rateLimit } from './rate-limit.js';

/** JSON bodies: 20,000 characters of instructions fit even as \u-escapes. */
export const JSON_BODY_MAX_BYTES = 128 * 1024;
/** An ingest batch of agent events. */
export const INGEST_BODY_MAX_BYTES = 4 * 1024 * 1024;
/** Room for a chat form's other fields and boundaries around the audio. */
export const FORM_OVERHEAD_BYTES = 64 * 1024;

export function bodyLimits(config: ApiConfig): MiddlewareHandler {
  return requestBodyLimit({
    defaultMaxBytes: JSON_BODY_MAX_BYTES,
    maxBytesByPath: {
      // A voice message's audio is the largest body anyone may send.
      '/api/chat': config.VOICE_MESSAGE_MAX_BYTES + FORM_OVERHEAD_BYTES,
      '/internal/': INGEST_BODY_MAX_BYTES,
    },
  });
}

export function rateLimits(
  config: ApiConfig,
  sessionTokens: SessionTokens,
  /** Counts shared by the replicas, when there are several (REDIS_URL). */
  redis?: Redis,
) {
  const windowMs = config.RATE_LIMIT_WINDOW_S * 1000;
  const verified = new WeakMap<Context, Promise<string | null>>();
  /** The session a request's token is for, when it carries a valid one (checked once). */
  const sessionOf = async (c: Context) => {
    const token = presentedSessionToken(c);
    if (!token) return undefined;
    let sessionId = verified.get(c);
    if (!sessionId) {
      sessionId = sessionTokens.verify(token);
      verified.set(c, sessionId);
    }
    return (await sessionId) ?? undefined;
  };
  const opensSession = async (c: Context) =>
    c.req.method === 'POST' &&
    (c.req.path === '/api/sessions' || (await sessionOf(c)) === undefined);

  const sessionsOpened = rateLimit({
    what: 'requests to open sessions',
    limit: config.RATE_LIMIT_SESSIONS,
    windowMs,
    redis,
    keyOf: async (c) => ((await opensSession(c)) ? c.get('client') : undefined),
  });
  const pageSessionsOpened = rateLimit({
    what: 'sessions opened from this page',
    limit: config.RATE_LIMIT_PAGE_SESSIONS,
    windowMs,
    redis,
    keyOf: async (c) =>
      isPageRequest(config, c) && (await opensSession(c)) ? c.get('client') : undefined,
  });
  const chatPerClient = rateLimit({
    what: 'chat messages',
    limit: config.RATE_LIMIT_CHAT,
    windowMs,
    redis,
    keyOf: (c) => c.get('client'),
  });
  const chatPerSession = rateLimit({
    what: 'chat messages in this session',
    limit: config.RATE_LIMIT_CHAT_PER_SESSION,
    windowMs,
    redis,
    keyOf: sessionOf,
  });
  const healthChecks = rateLimit({
    what: 'health checks',
    limit: config.RATE_LIMIT_HEALTH,
    windowMs,
    redis,
    keyOf: (c) => c.get('client'),
  });
  const modelLists = rateLimit({
    what: 'requests for the model list',
    limit: config.RATE_LIMIT_MODELS,
    windowMs,
    redis,
    keyOf: (c) => c.get('client'),
  });
  return {
    '/api/sessions': [sessionsOpened, pageSessionsOpened],
    '/api/chat': [chatPerClient, sessionsOpened, pageSessionsOpened, chatPerSession],
    '/health': [healthChecks],
    '/api/models': [modelLists],
  };
}
