/**
 * SSE fan-out: how long an event takes from the agent's ingest POST to each feed subscriber, with
 * 1 to 10,000 subscribers on live sessions, and what a subscriber costs the API. Subscribers are
 * 100 to a session. In a burst round every active session gets one event through the real ingest
 * route at the same moment, so every subscriber is sent a frame at once; in a one-session round a
 * single session gets one, while all the others stay connected. The same rounds against a bare
 * node:http server that writes the same frames to its sockets give the floor of this machine and
 * client. Subscribers live in child processes (bench/sse-clients.ts) on raw sockets, spread over
 * several loopback source addresses.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createSessionTokens } from '../api/session-tokens.js';
import { DEV_LIVEKIT_SECRET } from '../common/config.js';
import type { CreateSessionResponse } from '../common/protocol.js';
import { startApiReplica } from '../test/support/extra-services.js';
import { freePort, startTestStack, type TestStack } from '../test/support/harness.js';
import { startRedis } from '../test/support/redis.js';
import { processUsage, sampleTree } from './process-stats.js';
import {
  type BenchOptions,
  type BenchRow,
  type BenchSection,
  ms1,
  renderSection,
  type Summary,
  summarize,
} from './report.js';
import type { ClientCommand, ClientReport, SubscriberSpec } from './sse-clients.js';

const SUBSCRIBERS_PER_SESSION = 100;
const CLIENT_PROCESSES = 4;
const LOCAL_ADDRESSES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);
const ROUND_TIMEOUT_MS = 10_000;
const ROUND_GAP_MS = 100;
const TARGET_SUBSCRIBERS = 10_000;
/** Subscribers of the Redis store's run, beside the same level on SQLite. */
const REDIS_LEVEL = 1000;
const TARGET_P99_MS = 50;

/** The floor: node:http writing one frame to every socket of a "session", nothing else. */
const BARE_SSE_SERVER = `
  import { createServer } from 'node:http';
  const sessions = new Map();
  let seq = 0;
  createServer((req, res) => {
    const subscribers = sessions.get(req.url) ?? new Set();
    sessions.set(req.url, subscribers);
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      res.write('retry: 3000\\n\\n');
      subscribers.add(res);
      req.on('close', () => subscribers.delete(res));
      return;
    }
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      const event = { ...JSON.parse(body).events[0], session_id: req.url, seq: ++seq };
      const frame = Buffer.from('id: ' + seq + '\\nevent: ' + event.event_type + '\\ndata: ' + JSON.stringify(event) + '\\n\\n');
      for (const subscriber of subscribers) subscriber.write(frame);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ appended: 1, last_seq: seq }));
    });
  }).listen(Number(process.env.BARE_PORT), '127.0.0.1');`;

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One client process, answering each command in turn. */
class ClientProcess {
  readonly child: ChildProcess;
  /** The session of each subscriber this process holds, in its order. */
  readonly sessions: number[] = [];

  constructor() {
    // The benchmarks run from the build (npm run bench), so the clients are compiled beside this.
    this.child = fork(fileURLToPath(new URL('./sse-clients.js', import.meta.url)), [], {
      serialization: 'advanced',
    });
  }

  send<K extends ClientReport['kind']>(command: ClientCommand, answer: K) {
    return new Promise<Extract<ClientReport, { kind: K }>>((resolve, reject) => {
      const onExit = () => reject(new Error('an SSE client process exited'));
      this.child.once('exit', onExit);
      this.child.once('message', (report: ClientReport) => {
        this.child.off('exit', onExit);
        if (report.kind === answer) resolve(report as Extract<ClientReport, { kind: K }>);
        else reject(new Error(`expected ${answer}, got ${report.kind}`));
      });
      this.child.send(command);
    });
  }

  async close() {
    if (this.child.connected) await this.send({ kind: 'close' }, 'closed').catch(() => {});
  }
}

/** What the subscribers follow: the API, or the bare server. */
interface FeedServer {
  port: number;
  pid: number;
  sessions: { path: string; token: string; publishUrl: string; publishToken: string }[];
}

interface RoundStats {
  delay: Summary;
  lost: number;
  /** Server CPU over the rounds (publishing included), per frame delivered. */
  cpuPerFrameUs: number;
}

class FanOut {
  readonly clients = Array.from({ length: CLIENT_PROCESSES }, () => new ClientProcess());
  connected = 0;
  failedToOpen = 0;

  constructor(readonly server: FeedServer) {}

  /** Connects subscribers up to `total`, 100 to a session in order. */
  async connect(total: number) {
    const specs: SubscriberSpec[][] = this.clients.map(() => []);
    for (let i = this.connected; i < total; i++) {
      const session = Math.floor(i / SUBSCRIBERS_PER_SESSION);
      const { path, token } = this.server.sessions[session] as FeedServer['sessions'][number];
      const client = i % CLIENT_PROCESSES;
      specs[client]?.push({ session, path, token });
      this.clients[client]?.sessions.push(session);
    }
    const opened = await Promise.all(
      this.clients.map((client, c) =>
        client.send(
          {
            kind: 'open',
            port: this.server.port,
            localAddresses: LOCAL_ADDRESSES,
            subscribers: specs[c] ?? [],
          },
          'opened',
        ),
      ),
    );
    this.failedToOpen += opened.reduce((sum, { failed }) => sum + failed, 0);
    this.connected = total;
  }

  /** One event to each of `sessions` at once; each subscriber's delay from its session's POST. */
  async round(sessions: number[], label: string): Promise<number[]> {
    const sentAt: (number | undefined)[] = [];
    const seqBySession: (number | undefined)[] = [];
    await Promise.all(
      sessions.map(async (index) => {
        const session = this.server.sessions[index] as FeedServer['sessions'][number];
        const body = JSON.stringify({
          events: [
            {
              event_type: 'agent_speaking',
              text: `Round ${label}: the agent is saying something of ordinary length here.`,
              delta: ' here.',
              turn_id: `turn-${label}`,
              timestamp: new Date().toISOString(),
            },
          ],
        });
        sentAt[index] = now();
        const response = await fetch(session.publishUrl, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${session.publishToken}`,
          },
          body,
        });
        if (!response.ok) throw new Error(`publishing answered ${response.status}`);
        seqBySession[index] = ((await response.json()) as { last_seq: number }).last_seq;
      }),
    );
    const reports = await Promise.all(
      this.clients.map((client) =>
        client.send({ kind: 'collect', seqBySession, timeoutMs: ROUND_TIMEOUT_MS }, 'collected'),
      ),
    );
    return reports.flatMap(({ times }, c) => {
      const ofSubscriber = (this.clients[c] as ClientProcess).sessions;
      return times.flatMap((time, j) => {
        const sent = sentAt[ofSubscriber[j] as number];
        return sent === undefined ? [] : [time - sent];
      });
    });
  }

  /** `count` rounds after one unmeasured, each to the sessions `pick` chooses for it. */
  async rounds(
    count: number,
    pick: (round: number) => number[],
    label: string,
  ): Promise<RoundStats> {
    await this.round(pick(0), `${label}-warmup`);
    const delays: number[] = [];
    let cpu = 0;
    for (let round = 1; round <= count; round++) {
      await sleep(ROUND_GAP_MS);
      const before = processOf(this.server.pid).cpuMs;
      delays.push(...(await this.round(pick(round), `${label}-${round}`)));
      cpu += processOf(this.server.pid).cpuMs - before;
    }
    const received = delays.filter((delay) => Number.isFinite(delay));
    return {
      delay: summarize(received),
      lost: delays.length - received.length,
      cpuPerFrameUs: (cpu * 1000) / Math.max(1, received.length),
    };
  }

  async close() {
    await Promise.all(this.clients.map((client) => client.close()));
  }
}

const processOf = (pid: number) => {
  const usage = processUsage(pid);
  if (!usage) throw new Error(`process ${pid} is gone`);
  return usage;
};
const range = (count: number) => Array.from({ length: count }, (_, i) => i);

/** Text sessions opened through the API at `apiUrl`, with what a subscriber and a publisher need. */
async function openSessions(apiUrl: string, count: number): Promise<FeedServer['sessions']> {
  const ingestTokens = createSessionTokens(DEV_LIVEKIT_SECRET, 'ingest');
  return Promise.all(
    range(count).map(async () => {
      const response = await fetch(`${apiUrl}/api/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"voice":false}',
      });
      if (response.status !== 201) throw new Error(`POST /api/sessions: ${response.status}`);
      const session = (await response.json()) as CreateSessionResponse;
      return {
        path: `/api/sessions/${session.sessionId}/events`,
        token: session.sessionToken,
        publishUrl: `${apiUrl}/internal/sessions/${session.sessionId}/events`,
        publishToken: (await ingestTokens.issue(session.sessionId, 3600)).token,
      };
    }),
  );
}

/**
 * The same burst rounds at `level` subscribers against two API replicas on the Redis store, events
 * ingested through A: first with the subscribers on A, then with them on B (each event crosses
 * Redis from one replica to the other).
 */
async function redisFanOut(stack: TestStack, level: number, rounds: number) {
  const redis = await startRedis();
  const replicas = [
    await startApiReplica(stack, 'api-redis-a', { REDIS_URL: redis.url }),
    await startApiReplica(stack, 'api-redis-b', { REDIS_URL: redis.url }),
  ] as const;
  try {
    const sessionCount = Math.ceil(level / SUBSCRIBERS_PER_SESSION);
    const sessions = await openSessions(replicas[0].url, sessionCount);
    const measured: RoundStats[] = [];
    for (const [index, api] of replicas.entries()) {
      const fanOut = new FanOut({ port: api.port, pid: api.process.pid as number, sessions });
      try {
        await fanOut.connect(level);
        await sleep(500);
        measured.push(await fanOut.rounds(rounds, () => range(sessionCount), `redis-${index}`));
      } finally {
        await fanOut.close();
      }
    }
    return { sameReplica: measured[0] as RoundStats, otherReplica: measured[1] as RoundStats };
  } finally {
    for (const api of replicas) await api.stop();
    await redis.stop();
  }
}

interface Level extends RoundStats {
  subscribers: number;
  sessions: number;
  /** API RSS growth since before the first subscriber, per subscriber. */
  rssPerSubscriberKiB: number;
}

export async function runSseBench({ quick }: BenchOptions): Promise<BenchSection> {
  const levels = quick ? [1, 100, 1000] : [1, 100, 1000, TARGET_SUBSCRIBERS];
  const top = levels.at(-1) as number;
  const rounds = quick ? 5 : 10;
  const oneSessionRounds = quick ? 20 : 50;
  const sessionCount = Math.ceil(top / SUBSCRIBERS_PER_SESSION);
  const stack = await startTestStack({
    LOG_LEVEL: 'info',
    // Every session here is opened by one address, far past the per-client abuse limits.
    RATE_LIMIT_SESSIONS: '0',
    MAX_OPEN_SESSIONS_PER_CLIENT: '0',
  });
  const stops: (() => Promise<unknown>)[] = [() => stack.stop()];
  try {
    const api = sampleTree().find((proc) => proc.role === 'api');
    if (!api) throw new Error('no API process in the bench process tree');
    const sessions = await openSessions(stack.apiUrl, sessionCount);
    const fanOut = new FanOut({ port: stack.ports.api, pid: api.pid, sessions });
    stops.unshift(() => fanOut.close());

    const rssBefore = processOf(api.pid).rssBytes;
    const results: Level[] = [];
    for (const level of levels) {
      await fanOut.connect(level);
      await sleep(500);
      const rssPerSubscriberKiB = (processOf(api.pid).rssBytes - rssBefore) / 1024 / level;
      const active = range(Math.ceil(level / SUBSCRIBERS_PER_SESSION));
      const stats = await fanOut.rounds(rounds, () => active, `burst-${level}`);
      results.push({ subscribers: level, sessions: active.length, rssPerSubscriberKiB, ...stats });
    }
    const oneSession = await fanOut.rounds(
      oneSessionRounds,
      (round) => [round % sessionCount],
      `one-${top}`,
    );
    await fanOut.close();

    // The same top level and rounds against node:http alone.
    const barePort = await freePort();
    const bare = spawn(process.execPath, ['--input-type=module', '-e', BARE_SSE_SERVER], {
      env: { ...process.env, BARE_PORT: String(barePort) },
      stdio: 'ignore',
    });
    stops.unshift(async () => {
      bare.kill();
    });
    const bareUrl = `http://127.0.0.1:${barePort}`;
    while (
      !(await fetch(`${bareUrl}/probe`, { method: 'POST', body: '{"events":[{}]}' }).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      await sleep(100);
    }
    const bareSessions = range(sessionCount).map((index) => ({
      path: `/${index}`,
      token: 'none',
      publishUrl: `${bareUrl}/${index}`,
      publishToken: 'none',
    }));
    const bareFanOut = new FanOut({
      port: barePort,
      pid: bare.pid as number,
      sessions: bareSessions,
    });
    stops.unshift(() => bareFanOut.close());
    await bareFanOut.connect(top);
    const bareBurst = await bareFanOut.rounds(rounds, () => range(sessionCount), 'bare-burst');
    const bareOne = await bareFanOut.rounds(
      oneSessionRounds,
      (round) => [round % sessionCount],
      'bare-one',
    );

    const onRedis = await redisFanOut(stack, REDIS_LEVEL, rounds);

    const delays = (stats: RoundStats) =>
      `p50 ${ms1(stats.delay.p50)}, p99 ${ms1(stats.delay.p99)}, max ${ms1(stats.delay.max)}`;
    const problems = (stats: RoundStats) =>
      stats.lost > 0 ? `; ${stats.lost} frames not received` : '';
    const meets = (stats: RoundStats) =>
      stats.delay.p99 <= TARGET_P99_MS && stats.lost === 0 && fanOut.failedToOpen === 0;
    const plural = (count: number, noun: string) =>
      `${count.toLocaleString('en-US')} ${noun}${count === 1 ? '' : 's'}`;
    // Below a thousand subscribers, a few ticks and the heap's own growth swamp the figures.
    const perSubscriber = (level: Level) =>
      level.subscribers < 1000
        ? ''
        : `; API per subscriber: +${level.rssPerSubscriberKiB.toFixed(1)} KiB RSS, ` +
          `${Math.round(level.cpuPerFrameUs)} µs CPU per frame`;
    const rows: BenchRow[] = results.map((level) => ({
      figure: `${plural(level.subscribers, 'subscriber')} (${plural(level.sessions, 'session')}), all sent a frame at once`,
      value: `delivery ${delays(level)}${perSubscriber(level)}${problems(level)}`,
      ...(level.subscribers === top && {
        baseline: `node:http alone: ${delays(bareBurst)}, ${Math.round(bareBurst.cpuPerFrameUs)} µs CPU per frame`,
      }),
      ...(level.subscribers === TARGET_SUBSCRIBERS && {
        target: `p99 ≤ ${TARGET_P99_MS} ms`,
        met: meets(level),
      }),
    }));
    const onSqlite = results.find((level) => level.subscribers === REDIS_LEVEL);
    const sqliteBaseline = onSqlite && {
      baseline: `SQLite, one API: ${delays(onSqlite)}, ${Math.round(onSqlite.cpuPerFrameUs)} µs CPU per frame`,
    };
    rows.push(
      {
        figure: `${plural(REDIS_LEVEL, 'subscriber')}, all sent a frame at once, Redis store, subscribers on the replica that ingests`,
        value: `delivery ${delays(onRedis.sameReplica)}; API ${Math.round(onRedis.sameReplica.cpuPerFrameUs)} µs CPU per frame${problems(onRedis.sameReplica)}`,
        ...sqliteBaseline,
      },
      {
        figure: `${plural(REDIS_LEVEL, 'subscriber')}, all sent a frame at once, Redis store, subscribers on the other replica`,
        value: `delivery ${delays(onRedis.otherReplica)}; its API ${Math.round(onRedis.otherReplica.cpuPerFrameUs)} µs CPU per frame${problems(onRedis.otherReplica)}`,
        ...sqliteBaseline,
      },
    );
    rows.push({
      figure: `${plural(top, 'subscriber')} connected, one session (${SUBSCRIBERS_PER_SESSION}) sent a frame at a time`,
      value: `delivery ${delays(oneSession)}${problems(oneSession)}`,
      baseline: `node:http alone: ${delays(bareOne)}`,
      ...(top === TARGET_SUBSCRIBERS && {
        target: `p99 ≤ ${TARGET_P99_MS} ms`,
        met: meets(oneSession),
      }),
    });
    return {
      key: 'sse',
      title: 'SSE fan-out',
      rows,
      notes: [
        `Delivery delay: ingest POST sent (POST /internal/sessions/:id/events with the session's ingest token, as the agent sends) → the frame's \`id:\` line read by the subscriber. ${rounds} burst rounds per level (every active session gets an event at the same moment) and ${oneSessionRounds} one-session rounds at ${plural(top, 'subscriber')}, each after one unmeasured round.`,
        `${SUBSCRIBERS_PER_SESSION} subscribers per text session, held on raw sockets by ${CLIENT_PROCESSES} client processes connecting from ${LOCAL_ADDRESSES.length} loopback addresses; clients and server share the machine's cores.`,
        'Per subscriber (from 1,000 on): the API process RSS growth from before the first subscriber, divided by the subscribers connected; the server CPU time during the measured rounds (publishing included, 10 ms ticks) divided by the frames delivered.',
        'Baseline: the same subscribers and rounds against a bare node:http server that writes one pre-encoded frame to each socket: the floor of this machine and client.',
        `Redis store: the same ${plural(REDIS_LEVEL, 'subscriber')} and burst rounds against two more API processes with REDIS_URL (a redis-server on this machine), events ingested through replica A, subscribers on A, then on B: every event goes through Redis (append script, publish, stream read) before the fan-out, and to B across it. The serving API's CPU only, not redis-server's.`,
        ...(fanOut.failedToOpen > 0
          ? [`${fanOut.failedToOpen} subscribers could not connect.`]
          : []),
      ],
      data: {
        rounds,
        oneSessionRounds,
        levels: results,
        oneSession,
        bare: { burst: bareBurst, oneSession: bareOne },
        redis: onRedis,
      },
    };
  } finally {
    for (const stop of stops) await stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(renderSection(await runSseBench({ quick: process.argv.includes('--quick') })));
}
