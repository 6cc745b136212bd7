/**
 * The abuse limits of `POST /mcp`, per tool call, as for the HTTP routes that do the same work:
 * `start_conversation` counts as opening a session (RATE_LIMIT_SESSIONS per client),
 * `send_message` as a chat message (RATE_LIMIT_CHAT per client, RATE_LIMIT_CHAT_PER_SESSION per
 * session). The calls are read from a copy of the body once the body limit has passed it; listing
 * tools and the handshake count against nothing. A JSON-RPC batch may carry one tool call at most,
 * so that each call is counted. With REDIS_URL the counts are the routes' own
 * (the same keys); in one process each limit counts MCP calls apart from the routes' requests.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { Redis } from 'ioredis';
import type { ApiConfig } from '../config.js';
import { apiError } from '../errors.js';
import { rateLimit } from '../middleware/rate-limit.js';
import type { SessionTokens } from '../session-tokens.js';

export interface ToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

declare module 'hono' {
  interface ContextVariableMap {
    /** The `tools/call` requests in a `POST /mcp` body. */
    mcpToolCalls: ToolCall[];
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function toolCallOf(message: unknown): ToolCall | undefined {
  if (!isRecord(message) || message.method !== 'tools/call' || !isRecord(message.params)) {
    return undefined;
  }
  const { name, arguments: args } = message.params;
  return typeof name === 'string' ? { name, arguments: isRecord(args) ? args : {} } : undefined;
}

/** Notes the body's tool calls; the transport reads the body itself, from the original. */
export function readToolCalls(): MiddlewareHandler {
  return async function readToolCalls(c, next) {
    const body: unknown = await c.req.raw
      .clone()
      .json()
      .catch(() => undefined);
    const messages: unknown[] = Array.isArray(body) ? body : [body];
    const toolCalls = messages.map(toolCallOf).filter((call) => call !== undefined);
    if (toolCalls.length > 1) {
      throw apiError(
        400,
        'invalid_request',
        'Send one tools/call per request, not a batch of them.',
      );
    }
    c.set('mcpToolCalls', toolCalls);
    return next();
  };
}

const calls = (c: Context, tool: string) =>
  (c.get('mcpToolCalls') ?? []).filter((call) => call.name === tool);

export function mcpRateLimits(
  config: ApiConfig,
  sessionTokens: SessionTokens,
  redis?: Redis,
): MiddlewareHandler[] {
  const windowMs = config.RATE_LIMIT_WINDOW_S * 1000;
  const perClient = (what: string, limit: number, tool: string) =>
    rateLimit({
      what,
      limit,
      windowMs,
      redis,
      keyOf: (c) => (calls(c, tool).length > 0 ? c.get('client') : undefined),
    });
  const chatPerSession = rateLimit({
    what: 'chat messages in this session',
    limit: config.RATE_LIMIT_CHAT_PER_SESSION,
    windowMs,
    redis,
    keyOf: async (c) => {
      const token = calls(c, 'send_message')[0]?.arguments.sessionToken;
      return typeof token === 'string'
        ? ((await sessionTokens.verify(token)) ?? undefined)
        : undefined;
    },
  });
  return [
    perClient('requests to open sessions', config.RATE_LIMIT_SESSIONS, 'start_conversation'),
    perClient('chat messages', config.RATE_LIMIT_CHAT, 'send_message'),
    chatPerSession,
  ];
}
