/** API entry: reads the configuration once, wires the parts, serves HTTP. */
import type { Server } from 'node:http';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { loadConfig } from '../common/config.js';
import { logSecrets, redactStdout } from '../common/log-redaction.js';
import { PROJECT_ROOT, PROJECT_VERSION } from '../common/paths.js';
import { createApp } from './app.js';
import { createChatLlm } from './chat/llm.js';
import { openChatTools } from './chat/tools.js';
import { apiConfigSchema } from './config.js';
import { createLivekitGateway } from './livekit.js';
import { requestLogFields } from './middleware/request-id.js';
import { createSessionTokens } from './session-tokens.js';
import { openRedisStore } from './store/redis.js';
import { startRetentionSweep } from './store/retention.js';
import { openSqliteStore } from './store/sqlite.js';
import { createVoiceMessages } from './voice/messages.js';
import { createVoiceReplies } from './voice/replies.js';

const config = loadConfig(apiConfigSchema);
// Lines logged while a request is handled carry its id (the X-Request-Id of its response). They
// go through process.stdout, which drops tokens and secrets from them, like the agent's.
redactStdout(logSecrets(config));
const logger = pino(
  { level: config.LOG_LEVEL, base: { service: 'api' }, mixin: requestLogFields },
  process.stdout,
);
// Several replicas share Redis (REDIS_URL); one API keeps everything in SQLite in DATA_DIR.
const redis = config.REDIS_URL
  ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 })
  : undefined;
redis?.on('error', (err) => logger.warn({ err }, 'Redis connection error'));
const store = config.REDIS_URL
  ? await openRedisStore({ url: config.REDIS_URL, log: logger })
  : await openSqliteStore({ dataDir: config.DATA_DIR, log: logger });
startRetentionSweep({
  store,
  log: logger,
  retentionDays: config.SESSION_RETENTION_DAYS,
  idleTimeoutS: config.SESSION_IDLE_TIMEOUT_S,
});

const voiceReplies = createVoiceReplies({
  dir: join(config.DATA_DIR, 'voice'),
  ttlMs: config.VOICE_REPLY_TTL_S * 1000,
});
const providers = { log: (details: object, message: string) => logger.warn(details, message) };
const tools = await openChatTools(config, logger);

/** Aborted on SIGTERM/SIGINT: open event streams flush, send a retry hint and end. */
const closing = new AbortController();
const app = createApp({
  config,
  closing: closing.signal,
  livekit: createLivekitGateway(config),
  sessionTokens: createSessionTokens(config.LIVEKIT_API_SECRET, 'session'),
  ingestTokens: createSessionTokens(config.LIVEKIT_API_SECRET, 'ingest'),
  pageTickets: createSessionTokens(config.LIVEKIT_API_SECRET, 'page'),
  store,
  ...(redis && { redis }),
  voiceReplies,
  voiceMessages: createVoiceMessages({ config, replies: voiceReplies, providers }),
  chatLlm: createChatLlm(config, { log: providers.log }),
  tools,
  logger,
  version: PROJECT_VERSION,
  webDir: join(PROJECT_ROOT, 'web', 'dist'),
});

const VOICE_REPLY_SWEEP_MS = 10 * 60_000;
setInterval(() => {
  voiceReplies.sweep().catch((err: unknown) => logger.warn({ err }, 'voice reply sweep failed'));
}, VOICE_REPLY_SWEEP_MS).unref();

const server = serve(
  { fetch: app.fetch, port: config.API_PORT, hostname: config.API_HOST },
  (info) =>
    logger.info({ port: info.port, host: config.API_HOST, store: store.kind }, 'API listening'),
);

/** How long requests in progress (a chat reply being streamed) may take to finish on shutdown. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Stops taking connections, lets the requests in progress finish (event streams end at once, with
 * a retry hint, after the events they hold), closes the store and exits. Connections still busy
 * after the grace period are cut.
 */
function shutDown(signal: NodeJS.Signals) {
  logger.info({ signal }, 'shutting down');
  const http = server as Server;
  http.close(() => {
    clearInterval(closeIdle);
    void Promise.all([store.close(), redis?.quit(), tools.close()]).finally(() => process.exit(0));
  });
  closing.abort();
  // Keep-alive connections that finish their request while closing are not reused.
  const closeIdle = setInterval(() => http.closeIdleConnections(), 50);
  setTimeout(() => {
    logger.warn('requests still running after the shutdown grace period; closing them');
    http.closeAllConnections();
  }, SHUTDOWN_GRACE_MS).unref();
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, shutDown);
