/**
 * Request ids on the real app: on every response, the caller's own only when it is a short plain
 * token, and on the log lines of the request that the process logger writes.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTestApp, createSession, openTestStore } from '../../test/support/test-app.js';
import type { SessionStore } from '../store/types.js';
import { REQUEST_ID_MAX_LENGTH, requestLogFields } from './request-id.js';

const { store, remove: removeStore } = await openTestStore();
afterAll(removeStore);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The app with a logger like the API process's (debug level), and the lines it wrote. */
function loggingApp(testStore: SessionStore = store) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const logger = pino({ level: 'debug', mixin: requestLogFields }, destination);
  return { app: buildTestApp({ store: testStore, logger }).app, lines };
}

describe('X-Request-Id', () => {
  const { app } = buildTestApp({ store });

  it('is a fresh UUID on every response, errors included, when the caller sends none', async () => {
    const [health, missing] = [await app.request('/health'), await app.request('/nowhere')];
    expect(health.headers.get('x-request-id')).toMatch(UUID);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-request-id')).toMatch(UUID);
    expect(missing.headers.get('x-request-id')).not.toBe(health.headers.get('x-request-id'));
  });

  it("keeps the caller's id when it is a plain token", async () => {
    const response = await app.request('/health', { headers: { 'x-request-id': 'trace-42_a=b' } });
    expect(response.headers.get('x-request-id')).toBe('trace-42_a=b');
  });

  it.each([
    ['too long', 'a'.repeat(REQUEST_ID_MAX_LENGTH + 1)],
    ['with a space', 'two words'],
    ['with a quote and a semicolon', '"x";y'],
    ['with non-ASCII letters', 'idé'],
    ['with a tab', 'a\tb'],
  ])('replaces an id %s', async (_, id) => {
    const response = await app.request('/health', { headers: { 'x-request-id': id } });
    expect(response.headers.get('x-request-id')).toMatch(UUID);
  });
});

describe('log lines', () => {
  it('carry the id of the request they were written for', async () => {
    const { app, lines } = loggingApp();
    const response = await app.request('/api/sessions', {
      method: 'POST',
      headers: { 'x-request-id': 'create-1' },
    });
    expect(response.status).toBe(201);
    expect(lines).toContainEqual(
      expect.objectContaining({ requestId: 'create-1', msg: 'session created' }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        requestId: 'create-1',
        msg: 'request',
        method: 'POST',
        route: '/api/sessions',
        status: 201,
      }),
    );
  });

  it('of an unexpected failure carry the id the client got, which is all the client gets', async () => {
    const failing: SessionStore = {
      ...store,
      getSession: () => Promise.reject(new Error('disk I/O error at /var/lib/secret.db')),
    };
    const { app, lines } = loggingApp(failing);
    const session = await createSession(buildTestApp({ store }).app);
    const response = await app.request(`/api/sessions/${session.sessionId}`, {
      headers: { authorization: `Bearer ${session.sessionToken}` },
    });
    expect(response.status).toBe(500);
    const requestId = response.headers.get('x-request-id');
    expect(await response.text()).not.toContain('secret.db');
    expect(lines).toContainEqual(expect.objectContaining({ requestId, msg: 'unhandled error' }));
  });

  it('for the voice route name its pattern, not the id that is its credential', async () => {
    const { app, lines } = loggingApp();
    await app.request('/api/voice/some-secret-reply-id');
    expect(JSON.stringify(lines)).not.toContain('some-secret-reply-id');
    expect(lines).toContainEqual(expect.objectContaining({ route: '/api/voice/:id', status: 404 }));
  });
});
