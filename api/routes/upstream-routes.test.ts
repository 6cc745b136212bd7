/**
 * `/health` and `/api/models` ask an upstream (LiveKit, the LLM endpoint): however many requests
 * come, the upstream is asked once while its answer stands, and each client is rate limited.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type OpenAIServer, startOpenAIServer } from '../../test/providers/openai.js';
import { buildTestApp, errorShape, openTestStore } from '../../test/support/test-app.js';

const { store, remove: removeStore } = await openTestStore();
afterAll(removeStore);

let openai: OpenAIServer;
beforeEach(async () => {
  openai = await startOpenAIServer({ models: ['local-llama'] });
});
afterEach(() => openai.close());

const REQUESTS = 20;
const llmEnv = () => ({ OPENAI_API_KEY: 'test-openai-key', LLM_BASE_URL: openai.url });
/** The caching tests send more than a client may. */
const NO_LIMITS = { RATE_LIMIT_HEALTH: '0', RATE_LIMIT_MODELS: '0' };

/** The fake LiveKit's reachability, counting how often the API asks for it. */
function countLivekitChecks(livekit: { reachable: boolean }) {
  let checks = 0;
  let reachable = livekit.reachable;
  Object.defineProperty(livekit, 'reachable', {
    get: () => {
      checks++;
      return reachable;
    },
    set: (value: boolean) => {
      reachable = value;
    },
  });
  return () => checks;
}

describe('upstream answers are kept briefly', () => {
  it('/health asks LiveKit once for many requests, at once or one after another', async () => {
    const { app, livekit } = buildTestApp({ store, env: NO_LIMITS });
    const checks = countLivekitChecks(livekit);
    const health = async () => (await app.request('/health')).status;
    expect(await Promise.all(Array.from({ length: REQUESTS }, health))).toStrictEqual(
      Array(REQUESTS).fill(200),
    );
    for (let i = 0; i < REQUESTS; i++) expect(await health()).toBe(200);
    expect(checks()).toBe(1);
  });

  it('/api/models asks the LLM endpoint once for many requests, a failure included', async () => {
    const { app } = buildTestApp({ store, env: { ...llmEnv(), ...NO_LIMITS } });
    const models = async () => (await app.request('/api/models')).status;
    expect(await Promise.all(Array.from({ length: REQUESTS }, models))).toStrictEqual(
      Array(REQUESTS).fill(200),
    );
    for (let i = 0; i < REQUESTS; i++) expect(await models()).toBe(200);
    expect(openai.requests.filter((request) => request.route === 'models')).toHaveLength(1);

    openai.injectFault('models', { kind: 'status', status: 401, times: Infinity });
    const failing = buildTestApp({ store, env: { ...llmEnv(), ...NO_LIMITS } }).app;
    for (let i = 0; i < 5; i++) expect((await failing.request('/api/models')).status).toBe(502);
    expect(openai.requests.filter((request) => request.route === 'models')).toHaveLength(2);
  });
});

describe('RATE_LIMIT_HEALTH and RATE_LIMIT_MODELS', () => {
  it.each([
    ['/health', 'RATE_LIMIT_HEALTH', /^Too many health checks; try again in \d+ s\.$/],
    [
      '/api/models',
      'RATE_LIMIT_MODELS',
      /^Too many requests for the model list; try again in \d+ s\.$/,
    ],
  ])('%s answers 429 rate_limited past %s, per client', async (path, variable, message) => {
    const { app } = buildTestApp({
      store,
      env: { ...llmEnv(), [variable]: '3', TRUST_PROXY: '1' },
    });
    const from = (address: string) => ({ headers: { 'x-forwarded-for': address } });
    for (let i = 0; i < 3; i++) {
      expect((await app.request(path, from('10.0.0.1'))).status).toBe(200);
    }
    const refused = await app.request(path, from('10.0.0.1'));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await refused.json()).toStrictEqual(
      errorShape('rate_limited', expect.stringMatching(message)),
    );
    expect((await app.request(path, from('10.0.0.2'))).status).toBe(200);
  });
});
