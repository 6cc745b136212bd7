/**
 * Session-scoped tokens: signed, expiring, naming one session. `session` tokens guard the client's
 * session-scoped calls; `ingest` tokens let that session's agent job append to its event log.
 * Each purpose has its own key (derived from the LiveKit secret, so a deployment keeps one secret),
 * so one kind can never pass for the other.
 */
import { createHmac } from 'node:crypto';
import { sign, verify } from 'hono/jwt';

export type TokenPurpose = 'session' | 'ingest';

export interface SessionTokens {
  issue(sessionId: string, ttlSeconds: number): Promise<{ token: string; expiresAt: Date }>;
  /** The session id the token was issued for, or null when it is forged, expired or malformed. */
  verify(token: string): Promise<string | null>;
}

export function createSessionTokens(
  livekitSecret: string,
  purpose: TokenPurpose = 'session',
): SessionTokens {
  const audience = `voice-agent-server/${purpose}-token/v1`;
  const key = createHmac('sha256', livekitSecret).update(audience).digest('base64url');
  return {
    async issue(sessionId, ttlSeconds) {
      const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
      const exp = Math.floor(expiresAt.getTime() / 1000);
      return { token: await sign({ sub: sessionId, aud: audience, exp }, key, 'HS256'), expiresAt };
    },
    async verify(token) {
      try {
        const payload = await verify(token, key, { alg: 'HS256', aud: audience });
        return typeof payload.sub === 'string' ? payload.sub : null;
      } catch {
        return null;
      }
    },
  };
}
