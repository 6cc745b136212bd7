/**
 * Session and ingest tokens: standard HS256 JWTs (tokens issued before the switch from hono/jwt
 * stay valid), bound to one session and one purpose, refused once expired or altered.
 */
import { createHmac } from 'node:crypto';
import { sign, verify } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { createSessionTokens } from './session-tokens.js';

const SECRET = 'test-livekit-secret-0123456789abcdef';
const AUDIENCE = 'voice-agent-server/session-token/v1';
/** The key the tokens are signed with: derived from the LiveKit secret, per purpose. */
const KEY = createHmac('sha256', SECRET).update(AUDIENCE).digest('base64url');
const tokens = createSessionTokens(SECRET, 'session');
const inAMinute = () => Math.floor(Date.now() / 1000) + 60;

describe('session tokens', () => {
  it('issues an HS256 JWT that a standard verifier accepts, naming the session', async () => {
    const { token, expiresAt } = await tokens.issue('s1', 60);
    const payload = await verify(token, KEY, { alg: 'HS256', aud: AUDIENCE });
    expect(payload).toStrictEqual({
      sub: 's1',
      aud: AUDIENCE,
      exp: Math.floor(expiresAt.getTime() / 1000),
    });
    expect(await tokens.verify(token)).toBe('s1');
  });

  it('accepts a token signed by a standard signer with the same key and claims', async () => {
    const token = await sign({ sub: 's1', aud: AUDIENCE, exp: inAMinute() }, KEY, 'HS256');
    expect(await tokens.verify(token)).toBe('s1');
  });

  it.each([
    ['expired', async () => (await tokens.issue('s1', -1)).token],
    [
      'of the other purpose',
      async () => (await createSessionTokens(SECRET, 'ingest').issue('s1', 60)).token,
    ],
    [
      'from another secret',
      async () => (await createSessionTokens(`${SECRET}x`).issue('s1', 60)).token,
    ],
    [
      'with its claims altered',
      async () => {
        const [header, , signature] = (await tokens.issue('s1', 60)).token.split('.');
        const claims = Buffer.from(JSON.stringify({ sub: 's2', aud: AUDIENCE, exp: inAMinute() }));
        return `${header}.${claims.toString('base64url')}.${signature}`;
      },
    ],
    [
      'unsigned (alg none)',
      async () => {
        const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
        return `${part({ alg: 'none', typ: 'JWT' })}.${part({ sub: 's1', aud: AUDIENCE, exp: inAMinute() })}.`;
      },
    ],
    ['without an expiry', async () => sign({ sub: 's1', aud: AUDIENCE }, KEY, 'HS256')],
    ['with its signature respelled', async () => `${(await tokens.issue('s1', 60)).token}!`],
    ['malformed', async () => 'not.a-token'],
  ])('refuses a token %s', async (_, token) => {
    expect(await tokens.verify(await token())).toBeNull();
  });
});
