import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { ErrorBody } from '../common/protocol.js';
import { requireApiKey } from './api-keys.js';
import { renderError } from './errors.js';

function guardedApp(keys: string[]) {
  const app = new Hono();
  app.use('/guarded', requireApiKey(keys));
  app.post('/guarded', (c) => c.json({ ok: true }));
  app.onError((error, c) => renderError(error, c));
  return app;
}

const post = (app: Hono, headers: Record<string, string> = {}) =>
  app.request('/guarded', { method: 'POST', headers });

const errorCode = async (response: Response) => ((await response.json()) as ErrorBody).error.code;

describe('requireApiKey', () => {
  it('lets everything through when no keys are configured', async () => {
    expect((await post(guardedApp([]))).status).toBe(200);
  });

  it('accepts any configured key as a bearer token or X-API-Key', async () => {
    const app = guardedApp(['key-one', 'key-two']);
    expect((await post(app, { authorization: 'Bearer key-two' })).status).toBe(200);
    expect((await post(app, { 'x-api-key': 'key-one' })).status).toBe(200);
  });

  it('refuses a missing key and a wrong key with distinct codes', async () => {
    const app = guardedApp(['key-one']);
    const missing = await post(app);
    expect(missing.status).toBe(401);
    expect(await errorCode(missing)).toBe('api_key_required');
    const wrongKeys: Record<string, string>[] = [
      { authorization: 'Bearer key-on' },
      { 'x-api-key': 'key-onex' },
    ];
    for (const headers of wrongKeys) {
      const wrong = await post(app, headers);
      expect(wrong.status).toBe(401);
      expect(await errorCode(wrong)).toBe('invalid_api_key');
    }
  });
});
