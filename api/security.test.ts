/**
 * Security properties of the whole app: CORS only for the allowed origins, a Content-Security-
 * Policy on the page, the API and the docs, no provider text or stack trace in any answer even
 * when every provider fails with a secret in its error, and participant tokens that grant no more
 * than a caller needs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'hono/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../common/config.js';
import type { CreateSessionResponse, ParticipantTokenResponse } from '../common/protocol.js';
import { readAudioFixture } from '../test/support/audio-fixtures.js';
import {
  buildTestApp,
  createSession,
  openTestStore,
  postForm,
  postJson,
  STACK_TRACE,
} from '../test/support/test-app.js';
import { apiConfigSchema } from './config.js';
import { livekitSources } from './middleware/secure-headers.js';

const { store, remove: removeStore } = await openTestStore();
const webDir = mkdtempSync(join(tmpdir(), 'web-dist-'));
writeFileSync(join(webDir, 'index.html'), '<!doctype html><title>Voice agent</title>');
afterAll(async () => {
  await removeStore();
  rmSync(webDir, { recursive: true, force: true });
});

describe('CORS', () => {
  const preflight = (origin: string) => ({
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type',
    },
  });
  const allowOrigin = (response: Response) => response.headers.get('access-control-allow-origin');

  it('gives an origin outside CORS_ORIGINS no Access-Control-Allow-Origin, preflight or not', async () => {
    const { app } = buildTestApp({ store, env: { CORS_ORIGINS: 'https://app.example.com' } });
    const evil = 'https://evil.example.net';
    expect(allowOrigin(await app.request('/api/sessions', preflight(evil)))).toBeNull();
    const created = await app.request('/api/sessions', postJson('{}', { origin: evil }));
    // The browser withholds the answer; the request itself is as any other client's.
    expect(allowOrigin(created)).toBeNull();
    expect(allowOrigin(await app.request('/health', { headers: { origin: evil } }))).toBeNull();
  });

  it('allows an origin in CORS_ORIGINS, with the headers the API uses', async () => {
    const { app } = buildTestApp({
      store,
      env: { CORS_ORIGINS: 'https://app.example.com, https://other.example.com/' },
    });
    const response = await app.request('/api/sessions', preflight('https://other.example.com'));
    expect(response.status).toBe(204);
    expect(allowOrigin(response)).toBe('https://other.example.com');
    expect(response.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    const health = await app.request('/health', { headers: { origin: 'https://app.example.com' } });
    expect(allowOrigin(health)).toBe('https://app.example.com');
    expect(health.headers.get('vary')).toMatch(/Origin/);
    expect(health.headers.get('access-control-expose-headers')).toMatch(/Retry-After/);
  });

  it('allows the Vite dev page by default in development, and no origin in production', async () => {
    const dev = buildTestApp({ store }).app;
    const page = { headers: { origin: 'http://localhost:5173' } };
    expect(allowOrigin(await dev.request('/health', page))).toBe('http://localhost:5173');
    const production = buildTestApp({
      store,
      env: { NODE_ENV: 'production', API_KEYS: 'key', LIVEKIT_API_SECRET: 'a-production-secret' },
    }).app;
    expect(allowOrigin(await production.request('/health', page))).toBeNull();
  });

  it('refuses `*` in production, and entries that are not origins', () => {
    const production = { NODE_ENV: 'production', API_KEYS: 'key', LIVEKIT_API_SECRET: 'real' };
    expect(() => loadConfig(apiConfigSchema, { ...production, CORS_ORIGINS: '*' })).toThrow(
      'CORS_ORIGINS: `*` is not allowed in production',
    );
    expect(() =>
      loadConfig(apiConfigSchema, { CORS_ORIGINS: 'https://a.example.com/app' }),
    ).toThrow(/CORS_ORIGINS: must be origins/);
    expect(loadConfig(apiConfigSchema, { CORS_ORIGINS: '*' }).CORS_ORIGINS).toStrictEqual(['*']);
  });
});

describe('Content-Security-Policy', () => {
  const csp = (response: Response) => response.headers.get('content-security-policy');

  it('lets the call page load only its own files and reach only the API and LiveKit', async () => {
    const { app } = buildTestApp({
      store,
      webDir,
      env: {
        LIVEKIT_PUBLIC_URL: 'wss://media.example.com:7443',
        PUBLIC_URL: 'https://voice.example.com/',
      },
    });
    const page = await app.request('/');
    expect(page.status).toBe(200);
    expect(csp(page)).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
        "media-src 'self' https://voice.example.com; " +
        "connect-src 'self' https://voice.example.com wss://media.example.com:7443 " +
        'https://media.example.com:7443; ' +
        "object-src 'none'; base-uri 'none'; form-action 'self'; " +
        "frame-ancestors 'self' http://localhost:5173 http://127.0.0.1:5173",
    );
    // Only the embedding origins' frames: X-Frame-Options cannot name them, so it is left out.
    expect(page.headers.get('x-frame-options')).toBeNull();
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('permissions-policy')).toBe(
      'camera=(), geolocation=(), microphone=(self)',
    );
  });

  it('lets the call page be framed by the embedding origins (CORS_ORIGINS), and no others', async () => {
    const frameAncestors = (response: Response) =>
      csp(response)
        ?.split('; ')
        .find((directive) => directive.startsWith('frame-ancestors'));
    const production = { NODE_ENV: 'production', API_KEYS: 'key' };
    const embedded = buildTestApp({
      store,
      webDir,
      env: { ...production, CORS_ORIGINS: 'https://shop.example.com,https://intranet.example.org' },
    }).app;
    const page = await embedded.request('/');
    expect(frameAncestors(page)).toBe(
      "frame-ancestors 'self' https://shop.example.com https://intranet.example.org",
    );
    expect(page.headers.get('x-frame-options')).toBeNull();
    // The API's own answers are framed by no one.
    for (const path of ['/health', '/api/page', '/openapi.json', '/docs']) {
      expect(frameAncestors(await embedded.request(path))).toBe("frame-ancestors 'none'");
    }

    const alone = buildTestApp({ store, webDir, env: production }).app;
    const lonePage = await alone.request('/');
    expect(frameAncestors(lonePage)).toBe("frame-ancestors 'self'");
    expect(lonePage.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });

  it("allows LiveKit Cloud's region hosts for a LiveKit Cloud URL", () => {
    expect(livekitSources('wss://my-project.livekit.cloud')).toStrictEqual([
      'wss://my-project.livekit.cloud',
      'https://my-project.livekit.cloud',
      'wss://*.livekit.cloud',
      'https://*.livekit.cloud',
    ]);
    expect(livekitSources('http://127.0.0.1:7880')).toStrictEqual([
      'ws://127.0.0.1:7880',
      'http://127.0.0.1:7880',
    ]);
  });

  it('gives API answers, errors included, a policy that loads and frames nothing', async () => {
    const { app } = buildTestApp({ store });
    for (const response of [
      await app.request('/health'),
      await app.request('/openapi.json'),
      await app.request('/api/sessions', postJson('{"bad":1}')),
      await app.request('/api/sessions/x/events'),
    ]) {
      expect(csp(response)).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('lets /docs load Swagger UI from its CDN and its start script from here, nothing inline', async () => {
    const { app } = buildTestApp({ store });
    const docs = await app.request('/docs');
    expect(docs.status).toBe(200);
    expect(csp(docs)).toBe(
      "default-src 'none'; script-src 'self' https://cdn.jsdelivr.net; " +
        "style-src https://cdn.jsdelivr.net; img-src 'self' data:; " +
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    const html = await docs.text();
    expect(html).toContain('<script src="/docs/init.js"></script>');
    // Every script has a src: an inline one would be refused by the policy.
    expect(html.match(/<script(?![^>]*\bsrc=)[^>]*>/g)).toBeNull();
    const init = await app.request('/docs/init.js');
    expect(init.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await init.text()).toContain("url: '/openapi.json'");
  });

  it('lets pages of other origins play a voice reply, which is its own credential', async () => {
    const { app } = buildTestApp({ store });
    const response = await app.request('/api/voice/unknown');
    expect(response.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(csp(response)).toBe("default-src 'none'; frame-ancestors 'none'");
  });
});

describe('no provider text and no stack trace in any answer', () => {
  const SECRET = 'sk-live-LEAKED-0123456789 at /srv/provider/internal.js:12:7';
  /** Answers every request with the status and content type the test sets, and the secret. */
  let failure = { status: 500, contentType: 'application/json' };
  let server: Server;
  let providerUrl = '';
  beforeAll(async () => {
    server = createServer((request, response) => {
      request.resume();
      const body =
        failure.contentType === 'text/event-stream'
          ? `data: ${JSON.stringify({ error: { message: SECRET } })}\n\n`
          : JSON.stringify({ error: { message: SECRET, type: 'server_error', stack: SECRET } });
      response.writeHead(failure.status, { 'content-type': failure.contentType });
      response.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    providerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const buildApp = () =>
    buildTestApp({
      store,
      env: {
        OPENAI_API_KEY: 'test-key',
        LLM_BASE_URL: providerUrl,
        TTS_BASE_URL: providerUrl,
        STT_BASE_URL: providerUrl,
      },
    }).app;

  const requests: [string, () => [string, RequestInit]][] = [
    ['GET /api/models', () => ['/api/models', {}]],
    ['POST /api/chat (JSON)', () => ['/api/chat', postJson('{"message":"Hi"}')]],
    ['POST /api/chat (streaming)', () => ['/api/chat', postJson('{"message":"Hi","stream":true}')]],
    [
      'POST /api/chat (voice message)',
      () => [
        '/api/chat',
        postForm({ type: 'voice', audio: new File([readAudioFixture('speech.mp3')], 'a.mp3') }),
      ],
    ],
  ];
  const failures = [
    { status: 500, contentType: 'application/json' },
    { status: 400, contentType: 'application/json' },
    { status: 401, contentType: 'application/json' },
    // Not an error status: what the API makes of a body it cannot use varies, but it is never
    // the body.
    { status: 200, contentType: 'text/html' },
    { status: 200, contentType: 'text/event-stream' },
  ];

  it.each(
    failures.flatMap((fault) => requests.map(([name, request]) => [name, fault, request] as const)),
  )('%s when the provider answers %o', async (_, fault, request) => {
    failure = fault;
    const response = await buildApp().request(...request());
    const body = await response.text();
    expect(body).not.toContain('LEAKED');
    expect(body).not.toContain('/srv/provider');
    expect(body).not.toMatch(STACK_TRACE);
    expect(body).not.toContain('Error: ');
    if (fault.status >= 400) {
      // The API's own error: as JSON, or as the stream's last frame.
      expect(body).toMatch(/"error":\{"code":"[a-z_]+","message":"[^"]*"\}/);
    }
  });
});

describe('participant tokens', () => {
  const grants = (token: string) => decode(token).payload;

  async function expectMinimalGrant(
    token: string,
    session: { roomName: string; identity: string },
  ) {
    const payload = grants(token);
    // Exact: roomCreate, roomAdmin, roomList, roomRecord or other sources would not match.
    expect(payload.video).toStrictEqual({
      room: session.roomName,
      roomJoin: true,
      canPublish: true,
      canSubscribe: true,
      canPublishData: true,
      canPublishSources: ['microphone'],
    });
    expect(payload.sub).toBe(session.identity);
    expect(payload.exp).toBe((payload.nbf as number) + 300);
    expect(payload.exp as number).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 300);
  }

  it('from session creation and from a refresh name the room, publish only a microphone, and expire', async () => {
    const { app } = buildTestApp({ store, env: { PARTICIPANT_TOKEN_TTL_S: '300' } });
    const created: CreateSessionResponse = await createSession(app, { username: 'Alice' });
    const session = { roomName: created.roomName, identity: created.participantIdentity };
    await expectMinimalGrant(created.participantToken, session);

    const refresh = await app.request(`/api/sessions/${created.sessionId}/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${created.sessionToken}` },
    });
    expect(refresh.status).toBe(200);
    const refreshed = (await refresh.json()) as ParticipantTokenResponse;
    await expectMinimalGrant(refreshed.participantToken, session);
  });

  it('is never accepted where a session token is needed', async () => {
    const { app } = buildTestApp({ store });
    const created = await createSession(app);
    const response = await app.request(`/api/sessions/${created.sessionId}`, {
      headers: { authorization: `Bearer ${created.participantToken}` },
    });
    expect(response.status).toBe(401);
  });
});
