/**
 * An early refusal (a body over the limit, credentials refused before the body is read, a rate
 * limit, a wrong method) must not break the connection for the client's next request. Real
 * sockets: the app served by @hono/node-server, one undici keep-alive connection, refusals
 * interleaved with cheap requests, and not one of them may fail.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Agent, request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTestApp, openTestStore } from '../test/support/test-app.js';

const { store, remove: removeStore } = await openTestStore();
afterAll(removeStore);

const ROUNDS = 10;

async function served(env: NodeJS.ProcessEnv = {}) {
  const { app } = buildTestApp({ store, env });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new Agent({ connections: 1, pipelining: 1, keepAliveTimeout: 10_000 });
  return {
    origin: `http://127.0.0.1:${port}`,
    agent,
    async close() {
      await agent.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const MB = 1024 * 1024;
const json = { 'content-type': 'application/json' };

interface Refusal {
  name: string;
  env?: NodeJS.ProcessEnv;
  /** Sent once before the rounds (to use up a rate limit). */
  before?: { path: string; method: string; headers?: Record<string, string>; body?: string };
  path: string;
  method: string;
  headers?: Record<string, string>;
  body?: string;
  status: number;
}

// Padding in JSON's own whitespace keeps a body valid however large it is.
const padded = (value: object, bytes: number) => JSON.stringify(value) + ' '.repeat(bytes);

const refusals: Refusal[] = [
  {
    name: 'a body over the limit',
    path: '/api/sessions',
    method: 'POST',
    headers: json,
    body: padded({ voice: false }, 2 * MB),
    status: 413,
  },
  {
    name: 'a voice message over its size limit',
    env: { VOICE_MESSAGE_MAX_BYTES: String(MB) },
    path: '/api/chat',
    method: 'POST',
    headers: { 'content-type': 'multipart/form-data; boundary=b' },
    body: `--b\r\nContent-Disposition: form-data; name="audio"; filename="a.webm"\r\n\r\n${'x'.repeat(2 * MB)}\r\n--b--\r\n`,
    status: 413,
  },
  {
    name: 'an ingest token refused before the batch is read',
    path: '/internal/sessions/some-session/events',
    method: 'POST',
    headers: json,
    body: padded({ events: [] }, 3 * MB),
    status: 401,
  },
  {
    name: 'a session token refused before the body is read',
    path: '/api/sessions/some-session/token',
    method: 'POST',
    headers: json,
    // Just under the JSON body limit, which is checked first.
    body: padded({}, 120 * 1024),
    status: 401,
  },
  {
    name: 'a rate limit',
    env: { RATE_LIMIT_SESSIONS: '1' },
    before: { path: '/api/sessions', method: 'POST', headers: json, body: '{"voice":false}' },
    path: '/api/sessions',
    method: 'POST',
    headers: json,
    body: padded({ voice: false }, 2 * MB),
    status: 429,
  },
  {
    name: 'a wrong method',
    path: '/api/chat',
    method: 'PUT',
    headers: json,
    body: padded({ message: 'hello' }, 2 * MB),
    status: 405,
  },
  { name: 'TRACE', path: '/metrics', method: 'TRACE', status: 405 },
];

describe('one keep-alive connection', () => {
  it.each(refusals)('survives $name ($status), interleaved with GET /health', async (refusal) => {
    const { origin, agent, close } = await served(refusal.env);
    const send = async (
      what: string,
      { path, method, headers, body }: Omit<Refusal, 'name' | 'status'>,
    ) => {
      const response = await request(`${origin}${path}`, {
        dispatcher: agent,
        method: method as 'GET',
        ...(headers && { headers }),
        ...(body !== undefined && { body }),
      });
      await response.body.text();
      return `${what}: ${response.statusCode}`;
    };
    const outcomes: string[] = [];
    try {
      if (refusal.before) await send('before', refusal.before);
      for (let round = 0; round < ROUNDS; round++) {
        for (const [what, call] of [
          ['refused', refusal],
          ['health', { path: '/health', method: 'GET' }],
        ] as const) {
          outcomes.push(
            await send(what, call).catch(
              (error: { code?: string }) => `${what}: ${error.code ?? String(error)}`,
            ),
          );
        }
      }
    } finally {
      await close();
    }
    expect(outcomes).toStrictEqual(
      Array.from({ length: ROUNDS }, () => [`refused: ${refusal.status}`, 'health: 200']).flat(),
    );
  });
});
