/**
 * Session tokens: signed, expiring, scoped to one session. They guard every session-scoped call.
 * The signing key is derived from the LiveKit secret so a deployment has one secret to keep.
 */
import { createHmac } from 'node:crypto';
import { sign, verify } from 'hono/jwt';

const PURPOSE = 'voice-agent-server/session-token/v1';

export interface SessionTokens {
  issue(sessionId: string, ttlSeconds: number): Promise<{ token: string; expiresAt: Date }>;
  /** The session id the token was issued for, or null when it is forged, expired or malformed. */
  verify(token: string): Promise<string | null>;
}

export function createSessionTokens(livekitSecret: string): SessionTokens {
  const key = createHmac('sha256', livekitSecret).update(PURPOSE).digest('base64url');
  return {
    async issue(sessionId, ttlSeconds) {
      const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
      const exp = Math.floor(expiresAt.getTime() / 1000);
      return { token: await sign({ sub: sessionId, aud: PURPOSE, exp }, key, 'HS256'), expiresAt };
    },
    async verify(token) {
      try {
        const payload = await verify(token, key, { alg: 'HS256', aud: PURPOSE });
        return typeof payload.sub === 'string' ? payload.sub : null;
      } catch {
        return null;
      }
    },
  };
}
