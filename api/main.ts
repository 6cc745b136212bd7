/** API entry: reads the configuration once, wires the parts, serves HTTP. */
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { pino } from 'pino';
import { loadConfig } from '../common/config.js';
import packageJson from '../package.json' with { type: 'json' };
import { createApp } from './app.js';
import { apiConfigSchema } from './config.js';
import { createLivekitGateway } from './livekit.js';
import { createSessionTokens } from './session-tokens.js';
import { openSqliteStore } from './store/sqlite.js';

const config = loadConfig(apiConfigSchema);
const logger = pino({ level: config.LOG_LEVEL, base: { service: 'api' } });
const store = await openSqliteStore({ dataDir: config.DATA_DIR, log: logger });

const app = createApp({
  config,
  livekit: createLivekitGateway(config),
  sessionTokens: createSessionTokens(config.LIVEKIT_API_SECRET, 'session'),
  ingestTokens: createSessionTokens(config.LIVEKIT_API_SECRET, 'ingest'),
  store,
  logger,
  version: packageJson.version,
});

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
