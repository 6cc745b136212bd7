/** `GET /health`: LiveKit reachability (a real call), provider configuration, store, uptime. */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { describeProviders } from '../../common/config.js';
import { healthResponseSchema } from '../../common/protocol.js';
import type { AppDeps } from '../app.js';

const LIVEKIT_CHECK_TIMEOUT_MS = 2000;
const startedAt = Date.now();

const healthRoute = createRoute({
  method: 'get',
  path: '/health',
  summary: 'Health of the API and what it depends on',
  responses: {
    200: {
      description: 'OK or degraded',
      content: { 'application/json': { schema: healthResponseSchema } },
    },
  },
});

export function healthRoutes({ config, livekit, store, version }: AppDeps) {
  const app = new OpenAPIHono();
  app.openapi(healthRoute, async (c) => {
    const [reachable, storeHealthy] = await Promise.all([
      livekit.isReachable(LIVEKIT_CHECK_TIMEOUT_MS),
      store.isHealthy().catch(() => false),
    ]);
    const providers = describeProviders(config);
    const stage = ({ name, configured, model }: (typeof providers)['llm']) => ({
      name,
      configured,
      ...(model !== undefined && { model }),
    });
    return c.json({
      status: reachable && storeHealthy ? ('ok' as const) : ('degraded' as const),
      livekit: { url: livekit.url, reachable },
      providers: {
        stt: stage(providers.stt),
        llm: stage(providers.llm),
        tts: stage(providers.tts),
      },
      store: storeHealthy ? store.kind : `${store.kind} (unavailable)`,
      version,
      uptime_s: Math.round((Date.now() - startedAt) / 1000),
      timestamp: new Date().toISOString(),
    });
  });
  return app;
}
