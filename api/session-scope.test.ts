/**
 * The session scope, `/api/sessions/:id` and everything under it, has one guard: every route the
 * app registers there refuses a caller without the session's token, including a route added after
 * the app is built, which no one remembered to guard.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildTestApp,
  createSession,
  errorShape,
  openTestStore,
  startSession,
} from '../test/support/test-app.js';

const { store, remove: removeStore } = await openTestStore();
afterAll(removeStore);

const SCOPE = '/api/sessions/:id';

describe('the session scope', () => {
  it('refuses every registered route under /api/sessions/:id without the token', async () => {
    const { app, livekit, session } = await startSession(store);
    const routes = app.routes
      .filter(({ method, path }) => method !== 'ALL' && path.startsWith(SCOPE))
      .map(({ method, path }) => `${method} ${path}`);
    expect(routes).toEqual(
      expect.arrayContaining([
        'GET /api/sessions/:id',
        'DELETE /api/sessions/:id',
        'POST /api/sessions/:id/token',
        'GET /api/sessions/:id/events',
        'GET /api/sessions/:id/transcript',
      ]),
    );
    for (const route of routes) {
      const [method, path] = route.split(' ') as [string, string];
      const response = await app.request(path.replace(':id', session.sessionId), { method });
      expect({ route, status: response.status, body: await response.json() }).toStrictEqual({
        route,
        status: 401,
        body: errorShape('session_token_required', 'This call needs the session token.'),
      });
    }
    expect(livekit.deletedRooms).toStrictEqual([]);
  });

  it('guards a route added to the scope later, without it asking', async () => {
    const { app } = buildTestApp({ store });
    app.get(`${SCOPE}/notes`, (c) => c.json({ notes: 'private' }));
    const session = await createSession(app);
    const path = `/api/sessions/${session.sessionId}/notes`;

    const refused = await app.request(path);
    expect(refused.status).toBe(401);
    const allowed = await app.request(path, {
      headers: { authorization: `Bearer ${session.sessionToken}` },
    });
    expect(await allowed.json()).toStrictEqual({ notes: 'private' });
  });
});
