/**
 * Builds the Hono app from its dependencies, so tests call `app.request(...)` without a server.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Logger } from 'pino';
import type { ChatLlm } from './chat/llm.js';
import type { ApiConfig } from './config.js';
import { apiError, renderError } from './errors.js';
import type { LivekitGateway } from './livekit.js';
import { createMetrics } from './metrics.js';
import { bodyLimits, rateLimits } from './middleware/abuse-limits.js';
import { identifyClient } from './middleware/client.js';
import { allowedOrigins, cors } from './middleware/cors.js';
import { requestIds } from './middleware/request-id.js';
import { securityHeaders } from './middleware/secure-headers.js';
import { chatRoutes } from './routes/chat.js';
import { docsRoutes } from './routes/docs.js';
import { type EventStreamOptions, eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { ingestRoutes } from './routes/ingest.js';
import { metricsRoutes } from './routes/metrics.js';
import { modelRoutes } from './routes/models.js';
import { sessionRoutes } from './routes/sessions.js';
import { transcriptRoutes } from './routes/transcript.js';
import { voiceRoutes } from './routes/voice.js';
import { webRoutes } from './routes/web.js';
import { webhookRoutes } from './routes/webhook.js';
import type { SessionTokens } from './session-tokens.js';
import type { SessionStore } from './store/types.js';
import type { VoiceMessages } from './voice/messages.js';
import type { VoiceReplies } from './voice/replies.js';

export interface AppDeps {
  config: ApiConfig;
  livekit: LivekitGateway;
  sessionTokens: SessionTokens;
  /** Tokens that let an agent job append to its own session's log. */
  ingestTokens: SessionTokens;
  store: SessionStore;
  /** The LLM text chat uses when no call is live. */
  chatLlm: ChatLlm;
  /** Speech in and out for voice messages sent through /api/chat. */
  voiceMessages: VoiceMessages;
  /** The spoken replies to voice messages, served at /api/voice/:id. */
  voiceReplies: VoiceReplies;
  logger: Logger;
  version: string;
  /** Aborted when the server shuts down: open event streams flush, send a retry hint and end. */
  closing?: AbortSignal;
  /** Tuning of the SSE feed; tests shorten the heartbeat and the slow-subscriber bound. */
  eventStream?: EventStreamOptions;
  /** The built call page, served at `/` when it holds an index.html (not before a build). */
  webDir?: string;
}

export function createApp(appDeps: AppDeps) {
  const { config } = appDeps;
  const metrics = createMetrics({
    store: appDeps.store,
    sessionIdleTimeoutS: config.SESSION_IDLE_TIMEOUT_S,
  });
  const deps = { ...appDeps, store: metrics.observe(appDeps.store) };
  const app = new OpenAPIHono();
  app.use(...requestIds({ logger: deps.logger }));
  app.use(metrics.requests);
  app.use(securityHeaders({ livekitUrl: deps.livekit.url, publicUrl: config.PUBLIC_URL }));
  app.use(cors(allowedOrigins(config)));
  app.use(identifyClient({ apiKeys: config.API_KEYS, trustProxy: config.TRUST_PROXY }));
  for (const [path, limits] of Object.entries(rateLimits(config, deps.sessionTokens))) {
    app.use(path, ...limits);
  }
  app.use(bodyLimits(config));

  app.route('/', healthRoutes(deps));
  app.route('/', sessionRoutes(deps));
  app.route('/', eventRoutes(deps, metrics));
  app.route('/', transcriptRoutes(deps));
  app.route('/', ingestRoutes(deps));
  app.route('/', chatRoutes(deps));
  app.route('/', modelRoutes(deps));
  app.route('/', voiceRoutes(deps));
  app.route('/', webhookRoutes(deps));
  app.route('/', metricsRoutes(deps, metrics));
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
