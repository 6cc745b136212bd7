/**
 * `GET /metrics`: the Prometheus exposition of api/metrics.ts. It tells how busy the server is, so
 * when API_KEYS is set (always in production) a scraper sends one of them, like any other client.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { requireApiKey } from '../api-keys.js';
import type { AppDeps } from '../deps.js';
import type { Metrics } from '../metrics.js';
import { errorResponse } from '../openapi.js';

const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  summary: 'Prometheus metrics (an API key when API_KEYS is set)',
  responses: {
    200: {
      description: 'Prometheus text exposition format',
      content: { 'text/plain': { schema: z.string() } },
    },
    401: errorResponse('No API key, or not a valid one', ['api_key_required', 'invalid_api_key']),
  },
});

export function metricsRoutes({ config }: Pick<AppDeps, 'config'>, metrics: Metrics) {
  const app = new OpenAPIHono();
  app.use('/metrics', requireApiKey(config.API_KEYS));
  app.openapi(metricsRoute, async (c) =>
    c.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
  );
  return app;
}
