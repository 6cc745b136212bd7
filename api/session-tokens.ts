/**
 * Signed, expiring tokens naming one subject. `session` tokens name a session and guard the
 * client's session-scoped calls; `ingest` tokens name a session and let its agent job append to
 * its event log; `page` tickets name the call page's origin and let the page open sessions without
 * an API key (PAGE_SESSIONS=open). Each purpose has its own key (derived from the LiveKit secret,
 * so a deployment keeps one secret), so one kind can never pass for another.
 *
 * The tokens are HS256 JWTs, signed and checked with node:crypto's HMAC directly: WebCrypto (what
 * hono/jwt uses) costs an async job per token, which was the largest cost of opening a session.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type TokenPurpose = 'session' | 'ingest' | 'page';

export interface SessionTokens {
  /** A token for `subject`: a session id, or for a page ticket the page's origin. */
  issue(subject: string, ttlSeconds: number): Promise<{ token: string; expiresAt: Date }>;
  /** The subject the token was issued for, or null when it is forged, expired or malformed. */
  verify(token: string): Promise<string | null>;
}

const toBase64Url = (text: string) => Buffer.from(text).toString('base64url');
const fromBase64Url = (part: string) => Buffer.from(part, 'base64url').toString();
const HEADER = toBase64Url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

export function createSessionTokens(
  livekitSecret: string,
  purpose: TokenPurpose = 'session',
): SessionTokens {
  const audience = `voice-agent-server/${purpose}-token/v1`;
  const key = createHmac('sha256', livekitSecret).update(audience).digest('base64url');
  const signature = (signed: string) =>
    createHmac('sha256', key).update(signed).digest('base64url');

  /** The token's claims when its signature is ours and it is an HS256 JWT; null otherwise. */
  function signedClaims(token: string): Record<string, unknown> | null {
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    const [header = '', payload = '', given = ''] = parts;
    // Compared as text: decoding first would accept other spellings of the same bytes.
    const expected = Buffer.from(signature(`${header}.${payload}`));
    const actual = Buffer.from(given);
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return null;
    const { alg } = JSON.parse(fromBase64Url(header));
    const claims: unknown = JSON.parse(fromBase64Url(payload));
    if (alg !== 'HS256' || typeof claims !== 'object' || claims === null) return null;
    return claims as Record<string, unknown>;
  }

  return {
    async issue(subject, ttlSeconds) {
      const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
      const exp = Math.floor(expiresAt.getTime() / 1000);
      const signed = `${HEADER}.${toBase64Url(JSON.stringify({ sub: subject, aud: audience, exp }))}`;
      return { token: `${signed}.${signature(signed)}`, expiresAt };
    },
    async verify(token) {
      try {
        const claims = signedClaims(token);
        if (!claims || claims.aud !== audience || typeof claims.sub !== 'string') return null;
        const expired = typeof claims.exp !== 'number' || claims.exp <= Date.now() / 1000;
        return expired ? null : claims.sub;
      } catch {
        return null;
      }
    },
  };
}
