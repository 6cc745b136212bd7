/**
 * `GET /api/page`: the call page's configuration, with a fresh page ticket in open mode only, for
 * the page's own origin; `open` by default in development, `off` in production.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { PageConfigResponse } from '../../common/protocol.js';
import {
  buildTestApp,
  ISO_TIME,
  openTestStore,
  pageTickets,
  sessionTokens,
} from '../../test/support/test-app.js';

const { store, remove: removeStore } = await openTestStore();
afterAll(removeStore);
afterEach(() => {
  vi.useRealTimers();
});

const PRODUCTION = { NODE_ENV: 'production', API_KEYS: 'backend-key' };

async function pageConfig(env: Record<string, string>) {
  const { app } = buildTestApp({ store, env });
  const response = await app.request('/api/page');
  expect(response.status).toBe(200);
  // A ticket is for one page load: no cache may hand it to another.
  expect(response.headers.get('cache-control')).toBe('no-store');
  return (await response.json()) as PageConfigResponse;
}

describe('GET /api/page', () => {
  it('hands the page a ticket for its own origin in open mode, lasting ten minutes', async () => {
    vi.useFakeTimers({ now: Date.parse('2030-01-01T00:00:00.000Z'), toFake: ['Date'] });
    const config = await pageConfig({
      ...PRODUCTION,
      PAGE_SESSIONS: 'open',
      CORS_ORIGINS: 'https://shop.example.com',
    });

    expect(config).toStrictEqual({
      sessions: 'open',
      embedOrigins: ['https://shop.example.com'],
      ticket: expect.any(String),
      ticketExpiresAt: '2030-01-01T00:10:00.000Z',
    });
    // app.request sends its requests to http://localhost.
    expect(await pageTickets.verify(config.ticket ?? '')).toBe('http://localhost');
    // A ticket is no session token, and the other way round.
    expect(await sessionTokens.verify(config.ticket ?? '')).toBeNull();
    expect(
      await pageTickets.verify((await sessionTokens.issue('http://localhost', 60)).token),
    ).toBe(null);
  });

  it("names PUBLIC_URL's origin in the ticket when it is set", async () => {
    const config = await pageConfig({
      PAGE_SESSIONS: 'open',
      PUBLIC_URL: 'https://voice.example.com/',
    });
    expect(await pageTickets.verify(config.ticket ?? '')).toBe('https://voice.example.com');
  });

  it('gives no ticket when the page may not open sessions: off by default in production', async () => {
    expect(
      await pageConfig({ ...PRODUCTION, CORS_ORIGINS: 'https://shop.example.com' }),
    ).toStrictEqual({
      sessions: 'off',
      embedOrigins: ['https://shop.example.com'],
    });
    expect(await pageConfig({ PAGE_SESSIONS: 'off' })).toMatchObject({ sessions: 'off' });
  });

  it('is open by default in development, with the Vite page as the embedding origins', async () => {
    const config = await pageConfig({});
    expect(config).toMatchObject({
      sessions: 'open',
      embedOrigins: ['http://localhost:5173', 'http://127.0.0.1:5173'],
      ticketExpiresAt: expect.stringMatching(ISO_TIME),
    });
  });
});
