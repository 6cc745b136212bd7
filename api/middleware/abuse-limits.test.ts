/**
 * Rate limits on opening sessions and on chat (per client, per session), the cap on open sessions
 * per client, and how clients are told apart (API key, address, X-Forwarded-For behind
 * TRUST_PROXY), on the real app and store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Hono } from 'hono';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatResponse, CreateSessionResponse } from '../../common/protocol.js';
import { type FakeProviders, startFakeProviders } from '../../test/support/fake-providers.js';
import {
  buildTestApp,
  createSession,
  errorShape,
  openTestStore,
  postJson,
  type TestApp,
} from '../../test/support/test-app.js';
import { openSqliteStore } from '../store/sqlite.js';
import { clientAddress } from './client.js';

const { store, remove: removeStore } = await openTestStore();
afterAll(removeStore);

/** Every limit off but the ones a test sets, so each test sees only its own. */
const LIMITS_OFF = {
  RATE_LIMIT_SESSIONS: '0',
  RATE_LIMIT_CHAT: '0',
  RATE_LIMIT_CHAT_PER_SESSION: '0',
  MAX_OPEN_SESSIONS_PER_CLIENT: '0',
};
const buildApp = (env: Record<string, string>) =>
  buildTestApp({ store, env: { ...LIMITS_OFF, ...env } }).app;

/** Requests through one proxy (TRUST_PROXY=1) from the address `from`. */
const via = (from: string, headers: Record<string, string> = {}) => ({
  'x-forwarded-for': from,
  ...headers,
});
const openSession = (app: TestApp, headers: Record<string, string> = {}) =>
  app.request('/api/sessions', postJson('{"voice":false}', headers));

async function expectRateLimited(response: Response, message: RegExp) {
  expect(response.status).toBe(429);
  const retryAfterS = Number(response.headers.get('retry-after'));
  expect(retryAfterS).toBeGreaterThanOrEqual(1);
  expect(retryAfterS).toBeLessThanOrEqual(60);
  expect(await response.json()).toStrictEqual(
    errorShape('rate_limited', expect.stringMatching(message)),
  );
}

describe('RATE_LIMIT_SESSIONS', () => {
  it('answers 429 rate_limited with Retry-After past the limit, per address', async () => {
    const app = buildApp({ RATE_LIMIT_SESSIONS: '2', TRUST_PROXY: '1' });
    for (let i = 0; i < 2; i++) expect((await openSession(app, via('10.0.0.1'))).status).toBe(201);
    await expectRateLimited(
      await openSession(app, via('10.0.0.1')),
      /^Too many requests to open sessions; try again in \d+ s\.$/,
    );
    expect((await openSession(app, via('10.0.0.2'))).status).toBe(201);
  });

  it('counts per API key when the request carries a valid one, and per address otherwise', async () => {
    const app = buildApp({ RATE_LIMIT_SESSIONS: '1', API_KEYS: 'key-a,key-b' });
    const key = (name: string) => ({ authorization: `Bearer ${name}` });
    expect((await openSession(app, key('key-a'))).status).toBe(201);
    expect((await openSession(app, key('key-a'))).status).toBe(429);
    expect((await openSession(app, key('key-b'))).status).toBe(201);
    // Made-up keys all count against the address, so guessing keys is limited too.
    expect((await openSession(app, key('guess-1'))).status).toBe(401);
    expect((await openSession(app, key('guess-2'))).status).toBe(429);
  });

  it('counts /api/chat without a session token, which opens a session', async () => {
    const app = buildApp({ RATE_LIMIT_SESSIONS: '1' });
    await createSession(app, { voice: false });
    await expectRateLimited(
      await app.request('/api/chat', postJson('{"message":"Hello?"}')),
      /open sessions/,
    );
  });

  it('is off at 0', async () => {
    const app = buildApp({ RATE_LIMIT_SESSIONS: '0' });
    for (let i = 0; i < 40; i++) expect((await openSession(app)).status).toBe(201);
  });
});

describe('chat rate limits', () => {
  let providers: FakeProviders;
  beforeEach(async () => {
    providers = await startFakeProviders();
  });
  afterEach(() => providers.close());

  const chat = (app: TestApp, session: CreateSessionResponse, headers = {}) =>
    app.request(
      '/api/chat',
      postJson(JSON.stringify({ message: 'Hello?', sessionId: session.sessionId }), {
        authorization: `Bearer ${session.sessionToken}`,
        ...headers,
      }),
    );

  it('RATE_LIMIT_CHAT_PER_SESSION limits each session on its own', async () => {
    const app = buildApp({ ...providers.env, RATE_LIMIT_CHAT_PER_SESSION: '2' });
    const [first, second] = [await createSession(app), await createSession(app)];
    for (let i = 0; i < 2; i++) expect((await chat(app, first)).status).toBe(200);
    await expectRateLimited(await chat(app, first), /in this session/);
    expect((await chat(app, second)).status).toBe(200);
    // The refused message reached no LLM and is not in the conversation.
    expect(providers.openai.chatRequests()).toHaveLength(3);
  });

  it('RATE_LIMIT_CHAT limits a client across its sessions, and continuing one opens none', async () => {
    const app = buildApp({
      ...providers.env,
      RATE_LIMIT_CHAT: '3',
      RATE_LIMIT_SESSIONS: '2',
      TRUST_PROXY: '1',
    });
    const opened = await app.request(
      '/api/chat',
      postJson('{"message":"Hello?"}', via('10.0.0.3')),
    );
    const { sessionId, sessionToken } = (await opened.json()) as ChatResponse;
    const session = { sessionId, sessionToken } as CreateSessionResponse;
    // Within the session limit of 2: these continue a session, they open none.
    for (let i = 0; i < 2; i++)
      expect((await chat(app, session, via('10.0.0.3'))).status).toBe(200);
    await expectRateLimited(await chat(app, session, via('10.0.0.3')), /^Too many chat messages;/);
    expect((await chat(app, session, via('10.0.0.4'))).status).toBe(200);
  });
});

describe('MAX_OPEN_SESSIONS_PER_CLIENT', () => {
  it('answers 429 too_many_open_sessions at the cap until one of the sessions ends', async () => {
    const app = buildApp({ MAX_OPEN_SESSIONS_PER_CLIENT: '2', TRUST_PROXY: '1' });
    const sessions = [];
    for (let i = 0; i < 2; i++) {
      const response = await openSession(app, via('10.1.0.1'));
      expect(response.status).toBe(201);
      sessions.push((await response.json()) as CreateSessionResponse);
    }
    const refused = await openSession(app, via('10.1.0.1'));
    expect(refused.status).toBe(429);
    expect(await refused.json()).toStrictEqual(
      errorShape(
        'too_many_open_sessions',
        'This client has 2 open sessions; end one (DELETE /api/sessions/:id) or let one expire.',
      ),
    );
    // Text chat opens sessions too, under the same cap; another client is not affected.
    const chat = await app.request('/api/chat', postJson('{"message":"Hi"}', via('10.1.0.1')));
    expect(chat.status).toBe(429);
    expect((await openSession(app, via('10.1.0.2'))).status).toBe(201);

    const ended = sessions[0] as CreateSessionResponse;
    const end = await app.request(`/api/sessions/${ended.sessionId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ended.sessionToken}` },
    });
    expect(end.status).toBe(200);
    expect((await openSession(app, via('10.1.0.1'))).status).toBe(201);
  });

  it('lets exactly the cap through when sessions are opened all at once', async () => {
    const app = buildApp({ MAX_OPEN_SESSIONS_PER_CLIENT: '2', TRUST_PROXY: '1' });
    const opened = await Promise.all(
      Array.from({ length: 6 }, () => openSession(app, via('10.1.0.9'))),
    );
    const statuses = opened.map((response) => response.status).sort();
    expect(statuses).toStrictEqual([201, 201, 429, 429, 429, 429]);
  });

  it('holds across an API restart, and counts no session idle past its expiry', async () => {
    const env = { MAX_OPEN_SESSIONS_PER_CLIENT: '1', TRUST_PROXY: '1' };
    expect((await openSession(buildApp(env), via('10.1.0.3'))).status).toBe(201);
    expect((await openSession(buildApp(env), via('10.1.0.3'))).status).toBe(429);

    await store.createSession({
      sessionId: 'idle-for-an-hour',
      roomName: 'session-idle-for-an-hour',
      participantIdentity: 'user-idle',
      userId: null,
      username: null,
      instructions: null,
      tools: null,
      createdAt: new Date(Date.now() - 3600_000).toISOString(),
      owner: 'addr:10.1.0.4',
    });
    expect((await openSession(buildApp(env), via('10.1.0.4'))).status).toBe(201);
  });

  it('finds the owner column added to a database made before it existed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'api-test-old-'));
    const old = new DatabaseSync(join(dataDir, 'sessions.db'));
    old.exec(`CREATE TABLE sessions (session_id TEXT PRIMARY KEY, room_name TEXT NOT NULL,
      participant_identity TEXT NOT NULL, user_id TEXT, username TEXT, instructions TEXT,
      created_at TEXT NOT NULL, last_activity_at TEXT NOT NULL, ended_at TEXT, state TEXT NOT NULL,
      live INTEGER NOT NULL) STRICT;
      INSERT INTO sessions VALUES ('old', 'session-old', 'user-old', NULL, NULL, NULL,
      '2030-01-01T00:00:00.000Z', '2030-01-01T00:00:00.000Z', NULL, 'idle', 0);`);
    old.close();
    const migrated = await openSqliteStore({ dataDir });
    try {
      expect(await migrated.getSession('old')).toMatchObject({ sessionId: 'old', live: false });
      const app = buildTestApp({
        store: migrated,
        env: { ...LIMITS_OFF, MAX_OPEN_SESSIONS_PER_CLIENT: '1' },
      }).app;
      expect((await openSession(app)).status).toBe(201);
      expect((await openSession(app)).status).toBe(429);
    } finally {
      await migrated.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('the OpenAPI document', () => {
  it('documents the 413 and 429 answers of the limited routes', async () => {
    const response = await buildApp({}).request('/openapi.json');
    const { paths } = (await response.json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const codes = (path: string, method: string) =>
      Object.keys(paths[path]?.[method]?.responses ?? {});
    expect(codes('/api/sessions', 'post')).toEqual(expect.arrayContaining(['413', '429']));
    expect(codes('/api/chat', 'post')).toEqual(expect.arrayContaining(['413', '429']));
    expect(codes('/internal/sessions/{id}/events', 'post')).toContain('413');
  });
});

describe('the client address', () => {
  const addressApp = (trustProxy: number) => {
    const app = new Hono();
    app.get('/', (c) => c.text(clientAddress(c, trustProxy)));
    return app;
  };
  const addressOf = async (trustProxy: number, headers: Record<string, string>) =>
    (await addressApp(trustProxy).request('/', { headers })).text();

  it('ignores X-Forwarded-For unless TRUST_PROXY says proxies add to it', async () => {
    expect(await addressOf(0, { 'x-forwarded-for': '203.0.113.9' })).toBe('unknown');
  });

  it('takes the entry TRUST_PROXY hops from the right, never one the client wrote', async () => {
    const spoofed = { 'x-forwarded-for': '198.51.100.1, 203.0.113.9' };
    expect(await addressOf(1, spoofed)).toBe('203.0.113.9');
    expect(await addressOf(2, spoofed)).toBe('198.51.100.1');
    // Fewer entries than proxies: the request did not come through all of them.
    expect(await addressOf(3, spoofed)).toBe('unknown');
  });
});
