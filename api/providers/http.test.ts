import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createProviderCall, readJson, retryAfterMs } from './http.js';

const fastRetries = { retries: 2, baseMs: 1, maxMs: 20 };
const readText = (response: Response) => response.text();

/** A fetch that answers `responses` in turn and counts its calls. */
function scriptedFetch(...responses: (() => Response)[]) {
  let calls = 0;
  const fetch = (async () => {
    const next = responses[Math.min(calls, responses.length - 1)];
    calls += 1;
    if (!next) throw new TypeError('fetch failed');
    return next();
  }) as typeof globalThis.fetch;
  return { fetch, calls: () => calls };
}

describe('createProviderCall', () => {
  it('honours a short Retry-After from a 429', async () => {
    const { fetch, calls } = scriptedFetch(
      () => new Response('slow down', { status: 429, headers: { 'retry-after': '0' } }),
      () => new Response('fine'),
    );
    const call = createProviderCall('tts', { fetch, retry: fastRetries });
    expect(await call('http://tts.test', {}, readText)).toBe('fine');
    expect(calls()).toBe(2);
  });

  it('keeps the provider error text out of the error and the log', async () => {
    const logged: object[] = [];
    const { fetch } = scriptedFetch(() => new Response('secret upstream detail', { status: 403 }));
    const call = createProviderCall('tts', { fetch, log: (details) => logged.push(details) });
    const error = (await call('http://tts.test', {}, readText).catch((caught) => caught)) as Error;
    expect(error).toMatchObject({ stage: 'tts', status: 403, retryable: false });
    expect(JSON.stringify({ message: error.message, logged })).not.toMatch(/secret/);
    expect(logged).toEqual([{ stage: 'tts', status: 403 }]);
  });

  it('does not retry an answer of an unexpected shape', async () => {
    const { fetch, calls } = scriptedFetch(() => Response.json({ unexpected: true }));
    const call = createProviderCall('stt', { fetch, retry: fastRetries });
    const read = readJson('stt', z.object({ text: z.string() }));
    await expect(call('http://stt.test', {}, read)).rejects.toMatchObject({ retryable: false });
    expect(calls()).toBe(1);
  });
});

describe('retryAfterMs', () => {
  const headers = (entries: Record<string, string>) => new Headers(entries);
  it('reads seconds, an HTTP date and OpenAI retry-after-ms', () => {
    const now = Date.UTC(2030, 0, 1);
    expect(retryAfterMs(headers({ 'retry-after': '2' }), now)).toBe(2000);
    const inThreeSeconds = new Date(now + 3000).toUTCString();
    expect(retryAfterMs(headers({ 'retry-after': inThreeSeconds }), now)).toBe(3000);
    expect(retryAfterMs(headers({ 'retry-after-ms': '250', 'retry-after': '1' }), now)).toBe(250);
    expect(retryAfterMs(headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(retryAfterMs(headers({}), now)).toBeUndefined();
  });
});
