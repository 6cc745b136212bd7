/**
 * Who may touch a session: the holder of its session token (`Authorization: Bearer`, or
 * `?token=` for EventSource, which cannot set headers). Also loads the session for the handler.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { apiError } from './errors.js';
import type { SessionTokens } from './session-tokens.js';
import type { SessionRecord, SessionStore } from './store/types.js';

export const bearerToken = (authorization: string | undefined) =>
  authorization?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() || undefined;

/** The session token a request carries, verified or not. */
export const presentedSessionToken = (c: Context) =>
  bearerToken(c.req.header('authorization')) ?? (c.req.query('token')?.trim() || undefined);

/** Throws unless the request carries the token of session `sessionId`. */
export async function checkSessionToken(
  sessionTokens: SessionTokens,
  c: Context,
  sessionId: string,
): Promise<void> {
  const token = presentedSessionToken(c);
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

/** For routes under `/api/sessions/:id`. */
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
