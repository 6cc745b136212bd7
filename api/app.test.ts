/**
 * The HTTP API through `app.request(...)`, without a server: the real app, real session tokens and
 * participant tokens, and LiveKit's room service replaced by an in-memory gateway.
 */
import { decode } from 'hono/jwt';
import { afterAll, describe, expect, it } from 'vitest';
import type { ErrorBody, HealthResponse } from '../common/protocol.js';
import {
  buildTestApp,
  createSession,
  errorShape,
  ISO_TIME,
  LIVEKIT_URL,
  openTestStore,
  postJson,
  SECRET,
  VERSION,
} from '../test/support/test-app.js';
import { createSessionTokens } from './session-tokens.js';

/** One store for the file: every test's sessions have their own random ids. */
const { store, remove: removeStore } = await openTestStore();
afterAll(removeStore);

const buildApp = (env: NodeJS.ProcessEnv = {}) => buildTestApp({ store, env });

describe('POST /api/sessions', () => {
  it('answers 201 with everything a client needs to join and follow the session', async () => {
    const { app } = buildApp();
    const before = Date.now();
    const body = await createSession(app, { userId: 'alice', username: 'Alice', voice: true });

    expect(body).toStrictEqual({
      sessionId: expect.stringMatching(/^[\w-]{22}$/),
      roomName: `session-${body.sessionId}`,
      livekitUrl: LIVEKIT_URL,
      participantToken: expect.any(String),
      participantIdentity: expect.stringMatching(/^user-[\w-]{12}$/),
      sessionToken: expect.any(String),
      eventsUrl: `http://localhost/api/sessions/${body.sessionId}/events`,
      expiresAt: expect.stringMatching(ISO_TIME),
    });
    const sessionLifetimeMs = Date.parse(body.expiresAt) - before;
    expect(sessionLifetimeMs).toBeGreaterThan(4 * 3600_000 - 5000);
    expect(sessionLifetimeMs).toBeLessThanOrEqual(4 * 3600_000 + 1000);
  });

  it('builds the events URL on PUBLIC_URL when it is set', async () => {
    const { app } = buildApp({ PUBLIC_URL: 'https://voice.example.com' });
    const body = await createSession(app, {});
    expect(body.eventsUrl).toBe(`https://voice.example.com/api/sessions/${body.sessionId}/events`);
  });

  it('creates the room with the agent dispatch metadata', async () => {
    const { app, livekit } = buildApp();
    const withInstructions = await createSession(app, { instructions: 'Be brief.' });
    const without = await createSession(app, {});

    const ingestToken = expect.any(String);
    expect(livekit.createdRooms).toStrictEqual([
      {
        roomName: withInstructions.roomName,
        metadata: { sessionId: withInstructions.sessionId, instructions: 'Be brief.', ingestToken },
      },
      { roomName: without.roomName, metadata: { sessionId: without.sessionId, ingestToken } },
    ]);
    // The job's ingest token names its session and is not a session token.
    const token = livekit.createdRooms[1]?.metadata.ingestToken ?? '';
    expect(await createSessionTokens(SECRET, 'ingest').verify(token)).toBe(without.sessionId);
    expect(await createSessionTokens(SECRET, 'session').verify(token)).toBeNull();
  });

  it('hands out a short-lived participant token for that room that can only join and talk', async () => {
    const { app } = buildApp();
    const body = await createSession(app, { userId: 'alice', username: 'Alice' });

    const { payload } = decode(body.participantToken);
    // Exact: a token with roomCreate, roomAdmin, roomList or other sources would not match.
    expect(payload.video).toStrictEqual({
      room: body.roomName,
      roomJoin: true,
      canPublish: true,
      canSubscribe: true,
      canPublishData: true,
      canPublishSources: ['microphone'],
    });
    expect(payload).toMatchObject({
      sub: body.participantIdentity,
      name: 'Alice',
      iss: 'test-key',
    });
    expect(payload.sub).not.toContain('alice');
    expect(payload.exp).toBe((payload.nbf as number) + 900);
  });

  it('chooses a different participant identity for every session', async () => {
    const { app } = buildApp();
    const [first, second] = await Promise.all([
      createSession(app, { userId: 'alice' }),
      createSession(app, { userId: 'alice' }),
    ]);
    expect(first.participantIdentity).not.toBe(second.participantIdentity);
    expect(first.sessionId).not.toBe(second.sessionId);
  });

  it('issues a session token that verifies to the session, and only with the same secret', async () => {
    const { app } = buildApp();
    const body = await createSession(app, {});

    expect(await createSessionTokens(SECRET).verify(body.sessionToken)).toBe(body.sessionId);
    expect(await createSessionTokens(`${SECRET}-other`).verify(body.sessionToken)).toBeNull();
    const { payload } = decode(body.sessionToken);
    expect(payload.exp).toBe(Math.floor(Date.parse(body.expiresAt) / 1000));
  });

  it('accepts an empty body without a content type as no options', async () => {
    const { app, livekit } = buildApp();
    const body = await createSession(app);

    expect(livekit.createdRooms).toStrictEqual([
      {
        roomName: body.roomName,
        metadata: { sessionId: body.sessionId, ingestToken: expect.any(String) },
      },
    ]);
  });

  it('accepts instructions of exactly 20000 characters', async () => {
    const { app } = buildApp();
    await createSession(app, { instructions: 'a'.repeat(20_000) });
  });

  it.each([
    ['a field of the wrong type', '{"voice":"yes"}', 'voice: '],
    ['an unknown field', '{"voice":true,"admin":true}', '"admin"'],
    [
      'instructions over 20000 characters',
      JSON.stringify({ instructions: 'a'.repeat(20_001) }),
      'instructions: ',
    ],
    ['a blank userId', '{"userId":"  "}', 'userId: '],
    ['a JSON array', '[]', 'expected object'],
    ['malformed JSON', '{"voice": tru', 'Malformed JSON'],
  ])('rejects %s with 400 invalid_request and creates no room', async (_, body, named) => {
    const { app, livekit } = buildApp();
    const response = await app.request('/api/sessions', postJson(body));

    expect(response.status).toBe(400);
    expect(await response.json()).toStrictEqual(
      errorShape('invalid_request', expect.stringContaining(named)),
    );
    expect(livekit.createdRooms).toStrictEqual([]);
  });

  it('refuses a body that is not declared as JSON with 415', async () => {
    const { app, livekit } = buildApp();
    const response = await app.request('/api/sessions', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });

    expect(response.status).toBe(415);
    expect(await response.json()).toStrictEqual(
      errorShape('unsupported_media_type', 'Unsupported Media Type'),
    );
    expect(livekit.createdRooms).toStrictEqual([]);
  });

  it('answers 503 livekit_unavailable without the LiveKit error text when LiveKit fails', async () => {
    const { app, livekit } = buildApp();
    livekit.failCreateRoom = true;
    const response = await app.request('/api/sessions', postJson('{}'));

    expect(response.status).toBe(503);
    expect(await response.json()).toStrictEqual(
      errorShape('livekit_unavailable', 'The LiveKit server could not create the room.'),
    );
  });
});

describe('unknown routes', () => {
  it.each([
    ['GET', '/api/nothing-here'],
    ['POST', '/api/nothing-here'],
  ])('%s %s answers 404 not_found as JSON', async (method, path) => {
    const { app } = buildApp();
    const response = await app.request(path, { method });

    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toStrictEqual(errorShape('not_found', 'No such route.'));
  });
});

describe('GET /health', () => {
  const health = async (env: NodeJS.ProcessEnv, reachable = true) => {
    const { app, livekit } = buildApp(env);
    livekit.reachable = reachable;
    const response = await app.request('/health');
    expect(response.status).toBe(200);
    return (await response.json()) as HealthResponse;
  };

  it('is ok with LiveKit reachable, and reports each provider from the environment', async () => {
    const body = await health({ LLM_BASE_URL: 'http://127.0.0.1:1234/v1', LLM_MODEL: 'qwen3' });

    expect(body).toStrictEqual({
      status: 'ok',
      livekit: { url: LIVEKIT_URL, reachable: true },
      providers: {
        stt: { name: 'deepgram', configured: false, model: 'nova-3' },
        llm: { name: 'openai-compatible', configured: true, model: 'qwen3' },
        tts: { name: 'openai', configured: false, model: 'gpt-4o-mini-tts' },
      },
      store: 'sqlite',
      version: VERSION,
      uptime_s: expect.any(Number),
      timestamp: expect.stringMatching(ISO_TIME),
    });
  });

  it('reports every provider configured with an OpenAI key and a Deepgram key', async () => {
    const body = await health({ OPENAI_API_KEY: 'sk-test', DEEPGRAM_API_KEY: 'dg-test' });

    expect(body.providers).toStrictEqual({
      stt: { name: 'deepgram', configured: true, model: 'nova-3' },
      llm: { name: 'openai', configured: true, model: 'gpt-4.1-mini' },
      tts: { name: 'openai', configured: true, model: 'gpt-4o-mini-tts' },
    });
  });

  it('is degraded when LiveKit is unreachable', async () => {
    const body = await health({}, false);

    expect(body.status).toBe('degraded');
    expect(body.livekit).toStrictEqual({ url: LIVEKIT_URL, reachable: false });
  });
});

describe('GET /openapi.json', () => {
  it('documents the session and health routes', async () => {
    const { app } = buildApp();
    const response = await app.request('/openapi.json');

    expect(response.status).toBe(200);
    const document = await response.json();
    expect(document).toMatchObject({
      openapi: '3.1.0',
      info: { version: VERSION },
      paths: {
        '/api/sessions': { post: { responses: { 201: {}, 400: {}, 503: {} } } },
        '/health': { get: { responses: { 200: {} } } },
      },
    });
  });

  it('documents the request headers routes read: Last-Event-ID on the feed, Range on voice replies', async () => {
    const { app } = buildApp();
    const document = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>;
    };
    const headers = (path: string) =>
      (document.paths[path]?.get?.parameters ?? [])
        .filter((parameter) => parameter.in === 'header')
        .map((parameter) => parameter.name);
    expect(headers('/api/sessions/{id}/events')).toEqual(['last-event-id']);
    expect(headers('/api/voice/{id}')).toEqual(['range']);
  });
});

describe('POST /api/sessions with API_KEYS set', () => {
  it('needs one of the keys, and creates no room without it', async () => {
    const { app, livekit } = buildApp({ API_KEYS: 'secret-key' });
    const refused = await app.request('/api/sessions', { method: 'POST' });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as ErrorBody).error.code).toBe('api_key_required');
    expect(livekit.createdRooms).toHaveLength(0);

    const created = await app.request('/api/sessions', {
      method: 'POST',
      headers: { authorization: 'Bearer secret-key' },
    });
    expect(created.status).toBe(201);
    expect(livekit.createdRooms).toHaveLength(1);
  });
});
