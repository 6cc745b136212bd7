/**
 * `GET /api/models`: the models of the configured LLM endpoint, as that endpoint lists them. The
 * list is kept a minute (a failure a few seconds), so callers cost the endpoint one call at most
 * per minute.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppDeps } from '../deps.js';
import { errorResponse } from '../openapi.js';
import { cacheUpstream } from '../upstream-cache.js';

const MODELS_TTL_MS = 60_000;
const MODELS_FAILURE_TTL_MS = 5000;
/** The shared call is not any one request's: no caller's disconnect cancels it, this does. */
const MODELS_TIMEOUT_MS = 10_000;

const modelsRoute = createRoute({
  method: 'get',
  path: '/api/models',
  summary: 'Models of the configured LLM endpoint',
  responses: {
    200: {
      description: 'The models, and which one the agent uses',
      content: {
        'application/json': {
          schema: z.object({
            configured: z.string(),
            models: z.array(z.object({ id: z.string(), owned_by: z.string() })),
          }),
        },
      },
    },
    429: errorResponse('Too many requests from this client (with Retry-After)', ['rate_limited']),
    502: errorResponse('The endpoint refused', ['llm_request_rejected']),
    503: errorResponse('The endpoint is unavailable, or none is configured', [
      'llm_unavailable',
      'provider_not_configured',
    ]),
  },
});

export function modelRoutes({ chatLlm, config }: AppDeps) {
  const listModels = cacheUpstream(
    () => chatLlm.listModels(AbortSignal.timeout(MODELS_TIMEOUT_MS)),
    { ttlMs: MODELS_TTL_MS, failureTtlMs: MODELS_FAILURE_TTL_MS },
  );
  const app = new OpenAPIHono();
  app.openapi(modelsRoute, async (c) => {
    const models = await listModels();
    return c.json({ configured: config.LLM_MODEL, models }, 200);
  });
  return app;
}
