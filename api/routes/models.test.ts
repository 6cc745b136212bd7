/** `GET /api/models` against the fake OpenAI server: its model list, or the API's own errors. */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type OpenAIServer, startOpenAIServer } from '../../test/providers/openai.js';
import { buildTestApp, errorShape, openTestStore } from '../../test/support/test-app.js';

const { store, remove: removeStore } = await openTestStore();
afterAll(removeStore);

let openai: OpenAIServer;
beforeEach(async () => {
  openai = await startOpenAIServer({ models: ['local-llama', 'local-qwen'] });
});
afterEach(() => openai.close());

const listModels = (env: Record<string, string> = {}) =>
  buildTestApp({
    store,
    env: { OPENAI_API_KEY: 'test-openai-key', LLM_BASE_URL: openai.url, ...env },
  }).app.request('/api/models');

const unavailable = errorShape(
  'llm_unavailable',
  'The language model is unavailable; try again shortly.',
);

describe('GET /api/models', () => {
  it("lists the endpoint's models and the configured one", async () => {
    const response = await listModels({ LLM_MODEL: 'local-qwen' });
    expect(response.status).toBe(200);
    expect(await response.json()).toStrictEqual({
      configured: 'local-qwen',
      models: [
        { id: 'local-llama', owned_by: 'system' },
        { id: 'local-qwen', owned_by: 'system' },
      ],
    });
    expect(openai.requests.map((request) => [request.route, request.status])).toStrictEqual([
      ['models', 200],
    ]);
  });

  it('answers 503 llm_unavailable when the endpoint keeps failing', async () => {
    openai.injectFault('models', { kind: 'status', status: 503, times: Infinity });
    const response = await listModels();
    expect(response.status).toBe(503);
    expect(await response.json()).toStrictEqual(unavailable);
  });

  it('answers 503 llm_unavailable when nothing listens at the endpoint', async () => {
    const env = { LLM_BASE_URL: openai.url };
    await openai.close();
    const response = await listModels(env);
    expect(response.status).toBe(503);
    expect(await response.json()).toStrictEqual(unavailable);
  });

  it('answers 502 llm_request_rejected when the endpoint refuses the key', async () => {
    openai.injectFault('models', { kind: 'status', status: 401 });
    const response = await listModels();
    expect(response.status).toBe(502);
    expect(await response.json()).toStrictEqual(
      errorShape(
        'llm_request_rejected',
        'The language model rejected the request; check LLM_MODEL and the API key.',
      ),
    );
  });

  it('answers 503 provider_not_configured, asking no one, when no LLM is configured', async () => {
    const response = await buildTestApp({ store }).app.request('/api/models');
    expect(response.status).toBe(503);
    expect(await response.json()).toStrictEqual(
      errorShape(
        'provider_not_configured',
        'No LLM configured: set OPENAI_API_KEY or LLM_BASE_URL.',
      ),
    );
  });
});
