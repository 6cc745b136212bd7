import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildTestApp,
  errorShape,
  openTestStore,
  type TestApp,
} from '../../test/support/test-app.js';
import { createVoiceReplies, type VoiceReplies } from '../voice/replies.js';

const TTL_MS = 3_600_000;
const audio = new Uint8Array(Array.from({ length: 1000 }, (_, index) => index % 251));
const notFound = errorShape('voice_not_found', 'No such voice reply; it may have expired.');

let dir: string;
let clock: number;
let replies: VoiceReplies;
let app: TestApp;
let removeStore: () => Promise<void>;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'voice-route-'));
  clock = Date.now();
  replies = createVoiceReplies({ dir, ttlMs: TTL_MS, now: () => clock });
  const { store, remove } = await openTestStore();
  removeStore = remove;
  app = buildTestApp({ store, voiceReplies: replies }).app;
});
afterEach(async () => {
  await removeStore();
  rmSync(dir, { recursive: true, force: true });
});

describe('GET /api/voice/:id', () => {
  it('serves the reply with its type, length and a private cache lifetime', async () => {
    // The route counts the lifetime on the real clock: the replies' clock must not lag behind it.
    clock = Date.now();
    const { id } = await replies.save(audio, 'audio/wav');
    const response = await app.request(`/api/voice/${id}`);
    expect(response.status).toBe(200);
    expect(Object.fromEntries(response.headers)).toMatchObject({
      'content-type': 'audio/wav',
      'content-length': String(audio.length),
      'cache-control': expect.stringMatching(/^private, max-age=(3599|3600)$/),
      'accept-ranges': 'bytes',
      'x-content-type-options': 'nosniff',
    });
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(audio);
  });

  it('serves a byte range, as media players ask', async () => {
    const { id } = await replies.save(audio, 'audio/mpeg');
    const response = await app.request(`/api/voice/${id}`, { headers: { range: 'bytes=10-19' } });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe(`bytes 10-19/${audio.length}`);
    expect(response.headers.get('content-length')).toBe('10');
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(audio.subarray(10, 20));
  });

  it('answers 416 for a range past the end, and the whole reply for a malformed one', async () => {
    const { id } = await replies.save(audio, 'audio/wav');
    const past = await app.request(`/api/voice/${id}`, { headers: { range: 'bytes=5000-' } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${audio.length}`);
    expect(await past.json()).toEqual(errorShape('range_not_satisfiable', expect.any(String)));
    const malformed = await app.request(`/api/voice/${id}`, { headers: { range: 'lines=1-2' } });
    expect(malformed.status).toBe(200);
    expect((await malformed.arrayBuffer()).byteLength).toBe(audio.length);
  });

  it('answers the same 404 for unknown, malformed and expired ids', async () => {
    const { id } = await replies.save(audio, 'audio/wav');
    const paths = [
      `/api/voice/${'A'.repeat(32)}`,
      '/api/voice/..%2F..%2Fetc%2Fpasswd',
      `/api/voice/${'x'.repeat(5000)}`,
      `/api/voice/${encodeURIComponent('ü'.repeat(32))}`,
    ];
    for (const path of paths) {
      const response = await app.request(path);
      expect(response.status, path).toBe(404);
      expect(await response.json()).toEqual(notFound);
    }
    clock += TTL_MS;
    const expired = await app.request(`/api/voice/${id}`);
    expect(expired.status).toBe(404);
    expect(await expired.json()).toEqual(notFound);
  });

  it('never reaches a file for a dot-dot id, which URL parsing turns into another path', async () => {
    const response = await app.request('/api/voice/%2e%2e');
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual(errorShape('not_found', 'No such route.'));
  });

  it('is documented in the OpenAPI document', async () => {
    const response = await app.request('/openapi.json');
    const document = (await response.json()) as {
      paths: Record<string, { get: { responses: object } }>;
    };
    expect(Object.keys(document.paths['/api/voice/{id}']?.get.responses ?? {})).toEqual([
      '200',
      '206',
      '404',
      '416',
    ]);
  });
});
