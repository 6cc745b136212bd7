/**
 * A webhook refused for its signature is logged at warn, so a misconfigured LiveKit (wrong key or
 * secret) shows in the logs, but at most once a minute per source address, so a flood of forged
 * notices cannot flood them.
 */
import { AccessToken } from 'livekit-server-sdk';
import { pino } from 'pino';
import { afterAll, afterEach, expect, it, vi } from 'vitest';
import { LIVEKIT_WEBHOOK_PATH } from '../../common/protocol.js';
import { buildTestApp, openTestStore } from '../../test/support/test-app.js';

const { store, remove: removeStore } = await openTestStore();
afterAll(removeStore);
afterEach(() => vi.useRealTimers());

function appWithLog() {
  const lines: { level: number; msg: string; address?: string; reason?: string }[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  // One proxy in front: the source address is the X-Forwarded-For entry it appended.
  const { app } = buildTestApp({ store, logger, env: { TRUST_PROXY: '1' } });
  const forged = async (address: string) => {
    const token = new AccessToken('test-key', 'not-the-secret-0123456789abcdef');
    const response = await app.request(LIVEKIT_WEBHOOK_PATH, {
      method: 'POST',
      headers: {
        'content-type': 'application/webhook+json',
        authorization: await token.toJwt(),
        'x-forwarded-for': address,
      },
      body: '{"event":"room_started"}',
    });
    expect(response.status).toBe(401);
  };
  const refusals = () => lines.filter((line) => line.msg.startsWith('refused a LiveKit webhook'));
  return { forged, refusals };
}

it('logs a refused webhook at warn, once a minute per source address', async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  const { forged, refusals } = appWithLog();

  for (let i = 0; i < 5; i++) await forged('203.0.113.5');
  await forged('198.51.100.7');
  expect(refusals()).toStrictEqual([
    expect.objectContaining({ level: 40, address: '203.0.113.5', reason: expect.any(String) }),
    expect.objectContaining({ level: 40, address: '198.51.100.7' }),
  ]);

  vi.setSystemTime(Date.now() + 59_000);
  await forged('203.0.113.5');
  expect(refusals()).toHaveLength(2);
  vi.setSystemTime(Date.now() + 1_000);
  await forged('203.0.113.5');
  expect(refusals()).toHaveLength(3);
});

it('logs neither the token nor the body of a refused webhook', async () => {
  const { forged, refusals } = appWithLog();
  await forged('203.0.113.9');
  const [line] = refusals();
  expect(JSON.stringify(line)).not.toMatch(/room_started|eyJ/);
});
