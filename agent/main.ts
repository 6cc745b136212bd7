/**
 * Agent worker entry: reads the configuration once, then registers with LiveKit for explicit
 * dispatch under AGENT_NAME. Each call runs `job.ts` in a job process: one per call, or shared by up
 * to AGENT_JOBS_PER_PROCESS calls.
 */
import { fileURLToPath } from 'node:url';
import { cli, ServerOptions } from '@livekit/agents';
import { loadConfig } from '../common/config.js';
import { logSecrets, redactStdout } from '../common/log-redaction.js';
import { agentConfigSchema } from './config.js';
import { createLoadMonitor } from './load.js';
import { configuredTools } from './tools.js';

const config = loadConfig(agentConfigSchema);
const SHUTDOWN_PROCESS_TIMEOUT_MS = 10_000;
// The worker's own lines; each job process redacts its own (job.ts).
redactStdout(logSecrets(config));
// A bad TOOLS_FILE or MCP_SERVERS stops the worker here, naming what is wrong.
await configuredTools(config);

cli.runApp(
  new ServerOptions({
    // Compiled beside this file by `npm run build`: job processes run plain JavaScript.
    agent: fileURLToPath(new URL('./job.js', import.meta.url)),
    agentName: config.AGENT_NAME,
    wsURL: config.LIVEKIT_URL,
    apiKey: config.LIVEKIT_API_KEY,
    apiSecret: config.LIVEKIT_API_SECRET,
    port: config.AGENT_HEALTH_PORT,
    loadFunc: createLoadMonitor(config.AGENT_MAX_CALLS),
    loadThreshold: config.AGENT_LOAD_THRESHOLD,
    logLevel: config.LOG_LEVEL,
    // A worker is a server: it keeps retrying (every 10 s at most) until LiveKit is back.
    maxRetry: Number.POSITIVE_INFINITY,
    // SIGTERM drains: no new calls, running ones go on until they end or this runs out.
    drainTimeout: config.AGENT_DRAIN_TIMEOUT_S * 1000,
    // Then each job is asked to shut down; it acknowledges at once and is gone within seconds
    // (its events flush in 3 s at most). One that does not, such as a process still starting,
    // is killed after this instead of holding the worker's exit for the default minute.
    shutdownProcessTimeout: SHUTDOWN_PROCESS_TIMEOUT_MS,
    // Several calls per job process: an option our patch of the framework adds (patches/).
    ...(config.AGENT_JOBS_PER_PROCESS > 1 && {
      createProcPool: (await import('./multi-job/pool.js')).sharedProcessPool(
        config.AGENT_JOBS_PER_PROCESS,
      ),
    }),
  }),
);
