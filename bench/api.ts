/**
 * API throughput under autocannon: requests per second and latency of session creation (text
 * only, and with a call) and of a live call's token refresh, read against a bare Hono route served
 * the same way in the same run. The API and the bare server are child processes of their own
 * (plain `node` on the build, like the stack's), so each shares the machine's cores with the load
 * generator in the same way; the ratio to the bare route is the figure that carries across
 * machines. The same requests are then measured with the Redis store (REDIS_URL) beside SQLite.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { createSessionTokens } from '../api/session-tokens.js';
import { DEV_LIVEKIT_SECRET } from '../common/config.js';
import { BUILD_DIR } from '../common/paths.js';
import type { CreateSessionResponse } from '../common/protocol.js';
import { freePort, startTestStack } from '../test/support/harness.js';
import { startRedis, type TestRedis } from '../test/support/redis.js';
import { processUsage } from './process-stats.js';
import { type BenchOptions, type BenchRow, type BenchSection, renderSection } from './report.js';

/** Enough connections to keep one single-threaded server busy without queueing in the kernel. */
const CONNECTIONS = 10;
const WARMUP_S = 1;
const TARGET_RATIO = 0.5;

/** The baseline: the least a Hono app on @hono/node-server can do per request. */
const BARE_SERVER = `
  import { serve } from '@hono/node-server';
  import { Hono } from 'hono';
  const app = new Hono().get('/bare', (c) => c.text('ok'));
  serve({ fetch: app.fetch, port: Number(process.env.BARE_PORT), hostname: '127.0.0.1' });`;

interface Service {
  pid: number;
  stop(): Promise<void>;
}

/** A `node` child writing its output to `logFile`, up once `readyUrl` answers. */
async function startNode(
  args: string[],
  env: NodeJS.ProcessEnv,
  readyUrl: string,
  logFile: string,
): Promise<Service> {
  const log = openSync(logFile, 'a');
  const child: ChildProcess = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', log, log],
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited; see ${logFile}`);
    const ok = await fetch(readyUrl, { signal: AbortSignal.timeout(1000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`${readyUrl} did not answer; see ${logFile}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    pid: child.pid as number,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

interface Load {
  reqPerSec: number;
  /** The server process's CPU time per answered request (10 ms ticks over the run). */
  cpuPerRequestUs: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  failures: number;
}

const cpuMs = (pid: number) => processUsage(pid)?.cpuMs ?? Number.NaN;

async function load(
  server: Service,
  url: string,
  durationS: number,
  request: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {},
  connections = CONNECTIONS,
): Promise<Load> {
  const options = { url, connections, ...request };
  await autocannon({ ...options, duration: WARMUP_S });
  const cpuBefore = cpuMs(server.pid);
  const result = await autocannon({ ...options, duration: durationS });
  const cpu = cpuMs(server.pid) - cpuBefore;
  return {
    reqPerSec: result['2xx'] / result.duration,
    cpuPerRequestUs: (cpu * 1000) / Math.max(1, result['2xx']),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result['2xx'],
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

const perSecond = (value: number) => `${Math.round(value).toLocaleString('en-US')} req/s`;
const latency = (run: Load) =>
  `p50 ${run.p50Ms} ms, p99 ${run.p99Ms} ms; server CPU ${Math.round(run.cpuPerRequestUs)} µs/request`;

const prefixed = (prefix: string, runs: Record<string, Load>) =>
  Object.fromEntries(Object.entries(runs).map(([name, run]) => [`${prefix} ${name}`, run]));

const TEXT_SESSION = {
  method: 'POST' as const,
  headers: { 'content-type': 'application/json' },
  body: '{"voice":false}',
};

/** An API process from the build with `env`, on a free port, added to `services`. */
async function startApi(env: NodeJS.ProcessEnv, logDir: string, name: string, services: Service[]) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const api = await startNode(
    [join(BUILD_DIR, 'api/main.js')],
    { ...env, API_PORT: String(port) },
    `${url}/health`,
    join(logDir, `${name}.log`),
  );
  services.push(api);
  return { api, url };
}

/**
 * Text session creation against two API replicas on one Redis at once, the connections split
 * between them: what a second replica adds on this machine.
 */
async function measureTwoReplicas(
  env: NodeJS.ProcessEnv,
  logDir: string,
  durationS: number,
  services: Service[],
): Promise<Load> {
  const replicas = [
    await startApi(env, logDir, 'api-redis-a', services),
    await startApi(env, logDir, 'api-redis-b', services),
  ];
  const runs = await Promise.all(
    replicas.map(({ api, url }) =>
      load(api, `${url}/api/sessions`, durationS, TEXT_SESSION, CONNECTIONS / 2),
    ),
  );
  for (const _ of replicas) await services.pop()?.stop();
  const requests = runs.reduce((sum, run) => sum + run.requests, 0);
  const cpuUs = runs.reduce((sum, run) => sum + run.cpuPerRequestUs * run.requests, 0);
  return {
    reqPerSec: runs.reduce((sum, run) => sum + run.reqPerSec, 0),
    cpuPerRequestUs: cpuUs / Math.max(1, requests),
    p50Ms: Math.max(...runs.map((run) => run.p50Ms)),
    p99Ms: Math.max(...runs.map((run) => run.p99Ms)),
    requests,
    failures: runs.reduce((sum, run) => sum + run.failures, 0),
  };
}

/** Session creation and token refresh against one API process started with `env`. */
async function measureApi(
  env: NodeJS.ProcessEnv,
  logDir: string,
  name: string,
  durationS: number,
  services: Service[],
) {
  const json = { 'content-type': 'application/json' };
  const { api, url: apiUrl } = await startApi(env, logDir, name, services);

  const textSession = await load(api, `${apiUrl}/api/sessions`, durationS, TEXT_SESSION);
  const callSession = await load(api, `${apiUrl}/api/sessions`, durationS, {
    method: 'POST',
    headers: json,
    body: '{}',
  });

  // A session whose agent has joined (as its job reports through ingest): refreshing its token
  // touches neither LiveKit nor the agent.
  const created = await fetch(`${apiUrl}/api/sessions`, {
    method: 'POST',
    headers: json,
    body: '{}',
  });
  const session = (await created.json()) as CreateSessionResponse;
  const ingest = await createSessionTokens(DEV_LIVEKIT_SECRET, 'ingest').issue(
    session.sessionId,
    600,
  );
  const started = await fetch(`${apiUrl}/internal/sessions/${session.sessionId}/events`, {
    method: 'POST',
    headers: { ...json, authorization: `Bearer ${ingest.token}` },
    body: JSON.stringify({
      events: [
        {
          event_type: 'session_started',
          room_name: session.roomName,
          timestamp: new Date().toISOString(),
        },
      ],
    }),
  });
  if (!started.ok) throw new Error(`ingest answered ${started.status}`);
  const refresh = await load(api, `${apiUrl}/api/sessions/${session.sessionId}/token`, durationS, {
    method: 'POST',
    headers: { authorization: `Bearer ${session.sessionToken}` },
  });

  await services.pop()?.stop();
  return { textSession, callSession, refresh };
}

export async function runApiBench({ quick }: BenchOptions): Promise<BenchSection> {
  const durationS = quick ? 3 : 10;
  // LiveKit from the shared harness; the API under load is a process of its own, so that its
  // dispatches name an agent no worker serves (the harness's worker would take every call).
  const stack = await startTestStack();
  const services: Service[] = [];
  let redis: TestRedis | undefined;
  try {
    const logDir = join(stack.logDir, 'bench-api');
    mkdirSync(logDir, { recursive: true });
    const barePort = await freePort();
    const bareArgs = ['--input-type=module', '-e', BARE_SERVER];
    const bareUrl = `http://127.0.0.1:${barePort}/bare`;
    const bareServer = await startNode(
      bareArgs,
      { BARE_PORT: String(barePort) },
      bareUrl,
      join(logDir, 'bare.log'),
    );
    services.push(bareServer);
    const bare = await load(bareServer, bareUrl, durationS);
    const apiEnv = {
      LIVEKIT_URL: stack.livekitUrl,
      AGENT_NAME: `bench-no-worker-${process.pid}`,
      DATA_DIR: join(logDir, 'data'),
      LOG_LEVEL: 'info',
      // One load generator on one address: the per-client abuse limits would refuse it at once.
      RATE_LIMIT_SESSIONS: '0',
      MAX_OPEN_SESSIONS_PER_CLIENT: '0',
    };
    const sqlite = await measureApi(apiEnv, logDir, 'api', durationS, services);
    redis = await startRedis();
    const withRedis = await measureApi(
      { ...apiEnv, REDIS_URL: redis.url },
      logDir,
      'api-redis',
      durationS,
      services,
    );
    const twoReplicas = await measureTwoReplicas(
      { ...apiEnv, REDIS_URL: redis.url },
      logDir,
      durationS,
      services,
    );
    const { textSession, callSession, refresh } = sqlite;

    const ratio = (run: Load) => run.reqPerSec / bare.reqPerSec;
    const baseline = `bare Hono route ${perSecond(bare.reqPerSec)}`;
    const row = (figure: string, run: Load, target: boolean): BenchRow => ({
      figure,
      value: `${perSecond(run.reqPerSec)} (${ratio(run).toFixed(2)}×), ${latency(run)}`,
      baseline,
      ...(target && { target: `≥ ${TARGET_RATIO}× bare`, met: ratio(run) >= TARGET_RATIO }),
    });
    /** A Redis-store figure beside the same request on SQLite. */
    const redisRow = (figure: string, run: Load, onSqlite: Load): BenchRow => ({
      figure,
      value: `${perSecond(run.reqPerSec)} (${(run.reqPerSec / onSqlite.reqPerSec).toFixed(2)}× SQLite), ${latency(run)}`,
      baseline: `SQLite ${perSecond(onSqlite.reqPerSec)}, ${latency(onSqlite)}`,
    });
    const runs = { bare, textSession, callSession, refresh, redis: withRedis, twoReplicas };
    const failed = Object.entries({
      ...sqlite,
      bare,
      ...prefixed('redis', withRedis),
      'two replicas': twoReplicas,
    }).filter(([, run]) => run.failures > 0);
    return {
      key: 'api',
      title: 'API throughput',
      rows: [
        {
          figure: 'bare Hono route GET /bare',
          value: `${perSecond(bare.reqPerSec)}, ${latency(bare)}`,
        },
        row('POST /api/sessions {"voice":false}', textSession, true),
        row('POST /api/sessions with a call', callSession, true),
        row('POST /api/sessions/:id/token (live call)', refresh, false),
        redisRow(
          'POST /api/sessions {"voice":false}, Redis store',
          withRedis.textSession,
          textSession,
        ),
        redisRow('POST /api/sessions with a call, Redis store', withRedis.callSession, callSession),
        redisRow(
          'POST /api/sessions/:id/token (live call), Redis store',
          withRedis.refresh,
          refresh,
        ),
        {
          figure: 'POST /api/sessions {"voice":false}, two API replicas on Redis, at once',
          value: `${perSecond(twoReplicas.reqPerSec)} in all (${(twoReplicas.reqPerSec / withRedis.textSession.reqPerSec).toFixed(2)}× one replica), p50 ${twoReplicas.p50Ms} ms, p99 ${twoReplicas.p99Ms} ms (the slower); server CPU ${Math.round(twoReplicas.cpuPerRequestUs)} µs/request`,
          baseline: `one replica on Redis ${perSecond(withRedis.textSession.reqPerSec)}`,
        },
      ],
      notes: [
        `autocannon in the bench process, ${CONNECTIONS} connections, ${durationS} s per case after a ${WARMUP_S} s warm-up; req/s counts 2xx answers. Server CPU: the serving process's CPU time over the measured run (10 ms ticks) per answered request, which other load on the machine disturbs less than req/s.`,
        'API and bare server: child processes (`node`, the API from the build); the API at LOG_LEVEL=info on its own SQLite file, against the harness livekit-server, with AGENT_NAME set to a name no worker serves (calls are created and dispatched, never answered), and the per-client rate limit and open-session cap off (one load generator would hit them at once).',
        'Token refresh: a session whose call is live (session_started ingested), so the refresh is token check + session read + participant token signing.',
        'Redis store: the same API with REDIS_URL, against a redis-server on this machine (Debian package, loopback, append-only file), started by the bench; two replicas: two such processes, each loaded by its own autocannon with half the connections at the same time, on the same two cores. Server CPU counts the API processes only, not redis-server’s own.',
        ...failed.map(
          ([name, run]) =>
            `${name}: ${run.failures} failed requests (non-2xx, errors or timeouts).`,
        ),
      ],
      data: runs,
    };
  } finally {
    for (const service of services.reverse()) await service.stop();
    await redis?.stop();
    await stack.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(renderSection(await runApiBench({ quick: process.argv.includes('--quick') })));
}
