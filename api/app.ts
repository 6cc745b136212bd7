/**
 * The composition root of the HTTP side: builds the Hono app from its dependencies (and the
 * services that live as long as it does), so tests call `app.request(...)` without a server.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { OpenAPIHono } from '@hono/zod-openapi';
import { createCallRecovery } from './call-recovery.js';
import { redisWatchBook } from './call-watches.js';
import type { AppDeps } from './deps.js';
import { apiError, renderError } from './errors.js';
import { livekitForRequests } from './livekit-requests.js';
import { mcpRoutes } from './mcp/route.js';
import { createMetrics } from './metrics.js';
import { bodyLimits, rateLimits } from './middleware/abuse-limits.js';
import { identifyClient } from './middleware/client.js';
import { allowedOrigins, cors } from './middleware/cors.js';
import { methodNotAllowed } from './middleware/method-not-allowed.js';
import { requestIds } from './middleware/request-id.js';
import { securityHeaders } from './middleware/secure-headers.js';
import { closeAfterUnreadBody } from './middleware/unread-body.js';
import { chatRoutes } from './routes/chat.js';
import { docsRoutes } from './routes/docs.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { ingestRoutes } from './routes/ingest.js';
import { metricsRoutes } from './routes/metrics.js';
import { modelRoutes } from './routes/models.js';
import { pageRoutes } from './routes/page.js';
import { sessionRoutes } from './routes/sessions.js';
import { transcriptRoutes } from './routes/transcript.js';
import { voiceRoutes } from './routes/voice.js';
import { webRoutes } from './routes/web.js';
import { webhookRoutes } from './routes/webhook.js';
import { requireSessionToken, SESSION_SCOPE } from './session-auth.js';

export function createApp(appDeps: AppDeps) {
  const { config } = appDeps;
  const metrics = createMetrics({
    store: appDeps.store,
    sessionIdleTimeoutS: config.SESSION_IDLE_TIMEOUT_S,
  });
  const deps = {
    ...appDeps,
    store: metrics.observe(appDeps.store),
    livekit: livekitForRequests(appDeps.livekit),
  };
  // Lives as long as the app: its watches outlast the webhook requests that start them.
  const callRecovery = createCallRecovery(
    { ...deps, livekit: appDeps.livekit },
    {
      agentJoinTimeoutMs: config.AGENT_JOIN_TIMEOUT_S * 1000,
      ...(deps.redis && { book: redisWatchBook(deps.redis) }),
    },
  );
  const app = new OpenAPIHono();
  // Outermost, so it sees every answer, the refusals of the middleware below included.
  app.use(closeAfterUnreadBody());
  app.use(...requestIds({ logger: deps.logger }));
  app.use(metrics.requests);
  app.use(
    securityHeaders({
      livekitUrl: deps.livekit.url,
      publicUrl: config.PUBLIC_URL,
      embedOrigins: allowedOrigins(config),
    }),
  );
  app.use(cors(allowedOrigins(config)));
  // Before limits and credentials: a wrong method is refused as such, whoever sends it.
  app.use(methodNotAllowed(() => app.routes));
  app.use(identifyClient({ apiKeys: config.API_KEYS, trustProxy: config.TRUST_PROXY }));
  for (const [path, limits] of Object.entries(rateLimits(config, deps.sessionTokens, deps.redis))) {
    app.use(path, ...limits);
  }
  app.use(bodyLimits(config));
  // One guard for the whole session scope, so a route added there cannot be left open.
  app.use(SESSION_SCOPE, requireSessionToken(deps.sessionTokens));

  app.route('/', healthRoutes(deps));
  app.route('/', sessionRoutes(deps));
  app.route('/', eventRoutes(deps, metrics));
  app.route('/', transcriptRoutes(deps));
  app.route('/', ingestRoutes(deps));
  app.route('/', chatRoutes(deps));
  app.route('/', modelRoutes(deps));
  app.route('/', pageRoutes(deps));
  app.route('/', voiceRoutes(deps));
  app.route('/', webhookRoutes(deps, callRecovery));
  app.route('/', metricsRoutes(deps, metrics));
  app.route('/', mcpRoutes(deps));
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'Voice agent server API', version: deps.version },
  });
  app.route('/', docsRoutes());
  if (deps.webDir && existsSync(join(deps.webDir, 'index.html'))) {
    app.route('/', webRoutes(deps.webDir));
  }
  app.notFound(() => {
    throw apiError(404, 'not_found', 'No such route.');
  });
  app.onError((error, c) =>
    renderError(error, c, (err) => deps.logger.error({ err }, 'unhandled error')),
  );
  return app;
}
