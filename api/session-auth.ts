/**
 * Who may touch a session: the holder of its session token, in `Authorization: Bearer`. Only the
 * event feed also takes it as `?token=`, because EventSource cannot set headers; anywhere else a
 * token in the URL would only end up in logs, proxies and browser history. One middleware guards
 * the whole `/api/sessions/:id` scope, so a route added there cannot be left open.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { apiError } from './errors.js';
import type { SessionTokens } from './session-tokens.js';
import type { SessionRecord, SessionStore } from './store/types.js';

export const bearerToken = (authorization: string | undefined) =>
  authorization?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() || undefined;

/** The one route whose client (EventSource) cannot send a header. */
const EVENT_FEED = /^\/api\/sessions\/[^/]+\/events$/;

const acceptsQueryToken = (c: Context) =>
  (c.req.method === 'GET' || c.req.method === 'HEAD') && EVENT_FEED.test(c.req.path);

/** The session token a request carries, verified or not. */
export const presentedSessionToken = (c: Context) =>
  bearerToken(c.req.header('authorization')) ??
  (acceptsQueryToken(c) ? c.req.query('token')?.trim() || undefined : undefined);

/** Throws unless the request carries the token of session `sessionId`. */
export const checkSessionToken = (sessionTokens: SessionTokens, c: Context, sessionId: string) =>
  checkPresentedToken(sessionTokens, presentedSessionToken(c), sessionId);

/** Throws unless `token` is the token of session `sessionId` (MCP tools take it as an argument). */
export async function checkPresentedToken(
  sessionTokens: SessionTokens,
  token: string | undefined,
  sessionId: string,
): Promise<void> {
  if (!token) {
    throw apiError(401, 'session_token_required', 'This call needs the session token.');
  }
  const tokenSessionId = await sessionTokens.verify(token);
  if (tokenSessionId === null) {
    throw apiError(401, 'invalid_session_token', 'The session token is not valid or expired.');
  }
  if (tokenSessionId !== sessionId) {
    throw apiError(403, 'forbidden', 'The session token is for another session.');
  }
}

/** The session scope: `/api/sessions/:id` and everything under it (Hono's `/*` matches both). */
export const SESSION_SCOPE = '/api/sessions/:id/*';

/** For every route of the session scope; it runs before a body is read. */
export function requireSessionToken(sessionTokens: SessionTokens): MiddlewareHandler {
  return async function requireSessionToken(c, next) {
    await checkSessionToken(sessionTokens, c, c.req.param('id') ?? '');
    return next();
  };
}

export async function loadSession(store: SessionStore, sessionId: string): Promise<SessionRecord> {
  const session = await store.getSession(sessionId);
  if (!session) throw apiError(404, 'session_not_found', 'No such session.');
  return session;
}
