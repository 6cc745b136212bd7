/**
 * `GET /health`: LiveKit reachability (a real call, its answer kept a few seconds so probes and
 * anyone else polling cost LiveKit one call at most per 5 s), provider configuration, store, uptime.
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { describeProviders } from '../../common/config.js';
import { healthResponseSchema } from '../../common/protocol.js';
import type { AppDeps } from '../deps.js';
import { errorResponse } from '../openapi.js';
import { cacheUpstream } from '../upstream-cache.js';

const LIVEKIT_CHECK_TIMEOUT_MS = 2000;
/** How long LiveKit's answer stands; an unreachable LiveKit is asked again sooner. */
const LIVEKIT_CHECK_TTL_MS = 5000;
const LIVEKIT_CHECK_FAILURE_TTL_MS = 1000;
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
    429: errorResponse('Too many requests from this client (with Retry-After)', ['rate_limited']),
  },
});

export function healthRoutes({ config, livekit, store, version }: AppDeps) {
  const livekitReachable = cacheUpstream(() => livekit.isReachable(LIVEKIT_CHECK_TIMEOUT_MS), {
    ttlMs: LIVEKIT_CHECK_TTL_MS,
    failureTtlMs: LIVEKIT_CHECK_FAILURE_TTL_MS,
    isFailure: (reachable) => !reachable,
  });
  const app = new OpenAPIHono();
  app.openapi(healthRoute, async (c) => {
    const [reachable, storeHealthy] = await Promise.all([
      livekitReachable(),
      store.isHealthy().catch(() => false),
    ]);
    const providers = describeProviders(config);
    const stage = ({ name, configured, model }: (typeof providers)['llm']) => ({
      name,
      configured,
      ...(model !== undefined && { model }),
    });
    return c.json(
      {
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
      },
      200,
    );
  });
  return app;
}
