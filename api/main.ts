/** API entry: reads the configuration once, wires the parts, serves HTTP. */
import type { Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { pino } from 'pino';
import { loadConfig } from '../common/config.js';
import packageJson from '../package.json' with { type: 'json' };
import { createApp } from './app.js';
import { createChatLlm } from './chat/llm.js';
import { apiConfigSchema } from './config.js';
import { createLivekitGateway } from './livekit.js';
import { requestLogFields } from './middleware/request-id.js';
import { createSessionTokens } from './session-tokens.js';
import { openSqliteStore } from './store/sqlite.js';
import { createVoiceMessages } from './voice/messages.js';
import { createVoiceReplies } from './voice/replies.js';

const config = loadConfig(apiConfigSchema);
// Lines logged while a request is handled carry its id (the X-Request-Id of its response).
const logger = pino({ level: config.LOG_LEVEL, base: { service: 'api' }, mixin: requestLogFields });
const store = await openSqliteStore({ dataDir: config.DATA_DIR, log: logger });

const voiceReplies = createVoiceReplies({
  dir: join(config.DATA_DIR, 'voice'),
  ttlMs: config.VOICE_REPLY_TTL_S * 1000,
});
const providers = { log: (details: object, message: string) => logger.warn(details, message) };

const app = createApp({
  config,
  livekit: createLivekitGateway(config),
  sessionTokens: createSessionTokens(config.LIVEKIT_API_SECRET, 'session'),
  ingestTokens: createSessionTokens(config.LIVEKIT_API_SECRET, 'ingest'),
  store,
  voiceReplies,
  voiceMessages: createVoiceMessages({ config, replies: voiceReplies, providers }),
  chatLlm: createChatLlm(config, { log: providers.log }),
  logger,
  version: packageJson.version,
  webDir: fileURLToPath(new URL('../web/dist', import.meta.url)),
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

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'shutting down');
    // Open event streams never end on their own; closing them lets the server finish.
    (server as Server).closeAllConnections();
    server.close(() => {
      void store.close().then(() => process.exit(0));
    });
    setTimeout(() => process.exit(0), 5000).unref();
  });
}
