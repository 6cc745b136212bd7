/**
 * Call recovery on two API replicas sharing Redis (the Redis store and watch book): a lost agent
 * is replaced once, by either replica, and still when the replica that got LiveKit's notice dies.
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedis, type TestRedis } from '../test/support/redis.js';
import { newSession } from '../test/support/sessions.js';
import { type CallRecovery, createCallRecovery } from './call-recovery.js';
import { redisWatchBook } from './call-watches.js';
import type { LivekitGateway } from './livekit.js';
import { openRedisStore } from './store/redis.js';
import type { SessionStore } from './store/types.js';

const ROOM = 'session-s1';
const JOIN_TIMEOUT_MS = 2000;

let server: TestRedis;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});

/** One replica: its own connections, store and recovery, on the shared Redis and LiveKit. */
async function replica(livekit: LivekitGateway, leaseMs = 5000) {
  const redis = new Redis(server.url);
  const store = await openRedisStore({ url: server.url });
  const recovery = createCallRecovery(
    {
      store,
      livekit,
      ingestTokens: { issue: async () => ({ token: 'ingest' }) } as never,
      logger: pino({ level: 'silent' }),
    },
    {
      agentJoinTimeoutMs: JOIN_TIMEOUT_MS,
      agentLeftGraceMs: 200,
      book: redisWatchBook(redis, { pollMs: 50, leaseMs }),
    },
  );
  return {
    recovery,
    store,
    async stop() {
      await recovery.close();
      await store.close();
      redis.disconnect();
    },
  };
}

/** LiveKit as the replicas see it: the caller alone in the room, dispatches counted. */
const lonelyCall = () => {
  const dispatched: string[] = [];
  const livekit = {
    listParticipants: async () => [{ identity: 'user-s1', agent: false }],
    agentJobs: async () => [],
    dispatchAgent: async (roomName: string) => {
      dispatched.push(roomName);
    },
  } as unknown as LivekitGateway;
  return { livekit, dispatched };
};

let replicas: { recovery: CallRecovery; store: SessionStore; stop(): Promise<void> }[] = [];
beforeEach(async () => {
  await server.flush();
});
afterEach(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  replicas = [];
});

async function twoReplicas(livekit: LivekitGateway, leaseMs?: number) {
  replicas = [await replica(livekit, leaseMs), await replica(livekit, leaseMs)];
  await replicas[0]?.store.createSession(newSession('s1'));
  return replicas as [(typeof replicas)[0], (typeof replicas)[0]];
}

const errorsOf = async (store: SessionStore) =>
  (await store.readEvents('s1', 0, 100)).filter((event) => event.event_type === 'error');

describe('call recovery on two replicas', () => {
  it('sends one agent when both look at the call', async () => {
    const { livekit, dispatched } = lonelyCall();
    const [a, b] = await twoReplicas(livekit);
    a.recovery.agentLeft(ROOM, 'agent-1');
    b.recovery.agentLeft(ROOM, 'agent-1');

    await expect.poll(() => dispatched.length, { timeout: 3000 }).toBe(1);
    // Well within the join timeout after that dispatch, no replica sends another.
    await new Promise((resolve) => setTimeout(resolve, JOIN_TIMEOUT_MS / 2));
    expect(dispatched).toStrictEqual([ROOM]);
    expect((await errorsOf(b.store)).map((event) => event.error_code)).toStrictEqual([
      'agent_lost',
    ]);
  });

  it('carries on the watch of a replica that died after the notice', async () => {
    const { livekit, dispatched } = lonelyCall();
    const [a, b] = await twoReplicas(livekit);
    a.recovery.agentLeft(ROOM, 'agent-1');
    // Wait until A's watch is in Redis, then A dies before it is due.
    await expect.poll(() => server.client.zcard('va:watches'), { timeout: 2000 }).toBe(1);
    await a.stop();
    replicas = [b];

    await expect.poll(() => dispatched.length, { timeout: 3000 }).toBe(1);
    expect((await errorsOf(b.store)).map((event) => event.error_code)).toStrictEqual([
      'agent_lost',
    ]);
  });

  it('carries on a watch whose replica died while looking at it, once its lease runs out', async () => {
    const { livekit, dispatched } = lonelyCall();
    const [a, b] = await twoReplicas(livekit, 500);
    await a.stop();
    replicas = [b];
    b.recovery.agentLeft(ROOM, 'agent-1');
    await expect.poll(() => server.client.zcard('va:watches'), { timeout: 2000 }).toBe(1);
    // A dead replica's lease, taken just before the watch fell due.
    await server.client.set('va:watch-lease:session-s1', 'dead-replica', 'PX', 500);

    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(dispatched).toStrictEqual([]);
    await expect.poll(() => dispatched.length, { timeout: 3000 }).toBe(1);
  });
});
