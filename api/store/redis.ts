/**
 * The Redis session store, for several API replicas sharing one Redis (REDIS_URL). Each session is
 * a hash (its record as JSON, its last seq, its owner); its event log a stream whose entry ids are
 * `0-<seq>`, so a replay from Last-Event-ID is one XRANGE, in order; its conversation items a second
 * stream with the same ids, so transcripts are read without the rest of the log. Sorted sets by
 * time index what the counts and retention need. An append reads the session, computes the batch
 * with session-state.ts as every store does, and commits it with a script that applies the writes
 * only if the session's last seq is still the one read (else it reads again): one atomic step,
 * which also publishes the new last seq. Every replica's subscribers then read the events they
 * have not had from the stream, so each is delivered once and in order wherever it was appended.
 * One Redis (with replicas if wanted), not Redis Cluster: the scripts write keys they are not
 * handed.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { SessionEvent, TimedEventBody } from '../../common/protocol.js';
import { acceptedEvents, applyEvents } from './session-state.js';
import {
  type ConversationItem,
  type EventListener,
  OpenSessionLimitError,
  type SessionRecord,
  type SessionStore,
  StoreUnavailableError,
} from './types.js';

export interface RedisStoreOptions {
  url: string;
  log?: Logger;
  /** The store's clock (ms since the epoch), which stamps activity; tests set it. */
  clock?: () => number;
}

const key = {
  session: (id: string) => `va:session:${id}`,
  events: (id: string) => `va:events:${id}`,
  items: (id: string) => `va:items:${id}`,
  /** Sessions not ended, by last activity (ms). */
  open: 'va:open',
  /** Of those, the ones with an agent in a call. */
  live: 'va:live',
  /** An owner's sessions not ended, by last activity, for the cap on open sessions. */
  owner: (owner: string) => `va:owner:${owner}`,
  /** Ended sessions, by end time, for retention. */
  ended: 'va:ended',
  /** Channel: the seq of a session's last appended event. */
  appended: (id: string) => `va:appended:${id}`,
};

/** Attempts of an append before it gives up under contention (each loses only to another append). */
const MAX_ATTEMPTS = 20;

/** A write of a commit: a Redis command and its arguments. */
type Write = (string | number)[];

/** Writes for a script, every argument a string (Lua would print large numbers in exponent form). */
const encodeWrites = (writes: Write[]) => JSON.stringify(writes.map((write) => write.map(String)));

/** Applies the writes (ARGV[2], JSON) if the session's lastSeq is still ARGV[1]; answers 1, else 0. */
const COMMIT_APPEND = `
if redis.call('HGET', KEYS[1], 'lastSeq') ~= ARGV[1] then return 0 end
for _, write in ipairs(cjson.decode(ARGV[2])) do redis.call(unpack(write)) end
return 1`;

/**
 * Creates a session (the writes in ARGV[3]) unless it exists, or its owner (KEYS[2]) already has
 * ARGV[2] sessions active after ARGV[1] (ARGV[2] < 0: no cap).
 */
const CREATE_SESSION = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
local max = tonumber(ARGV[2])
if max >= 0 and redis.call('ZCOUNT', KEYS[2], ARGV[1], '+inf') >= max then return 'limit' end
for _, write in ipairs(cjson.decode(ARGV[3])) do redis.call(unpack(write)) end
return 'ok'`;
/** Sessions deleted per round by the retention sweep. */
const DELETE_BATCH = 50;
const HEALTH_TIMEOUT_MS = 1000;

const ms = (iso: string) => Date.parse(iso);
/** A stream entry id for a seq, and a range bound after it. */
const entryId = (seq: number) => `0-${seq}`;
const after = (seq: number) => `(0-${seq}`;

type Entries = [id: string, fields: string[]][];
const toEvents = (entries: Entries) =>
  entries.map(([, fields]) => JSON.parse(fields[1] as string) as SessionEvent);

/**
 * An error of the connection rather than of a command: ioredis gave up on the request after its
 * retries, or the socket failed. Redis's own replies (ReplyError) are not among them.
 */
const isConnectionError = (error: unknown) =>
  error instanceof Error &&
  (error.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH/.test(
      error.message,
    ));

/** The store with connection failures turned into StoreUnavailableError (a 503 for clients). */
function unavailableWhenDisconnected(store: SessionStore): SessionStore {
  const guarded = { ...store };
  for (const name of [
    'createSession',
    'getSession',
    'appendEvents',
    'readEvents',
    'readConversation',
    'readConversationAfter',
    'countSessions',
    'deleteEndedBefore',
  ] as const) {
    const call = store[name] as (...args: unknown[]) => Promise<unknown>;
    (guarded[name] as typeof call) = (...args) =>
      call(...args).catch((error: unknown) => {
        if (!isConnectionError(error)) throw error;
        throw new StoreUnavailableError('Redis is unavailable', { cause: error });
      });
  }
  return guarded;
}

const scripts = {
  commitAppend: { numberOfKeys: 1, lua: COMMIT_APPEND },
  createSession: { numberOfKeys: 2, lua: CREATE_SESSION },
};
type ScriptedRedis = Redis & {
  commitAppend(session: string, lastSeq: number, writes: string): Promise<number>;
  createSession(
    session: string,
    owner: string,
    since: string,
    max: number,
    writes: string,
  ): Promise<string>;
};

export async function openRedisStore({
  url,
  log,
  clock = () => Date.now(),
}: RedisStoreOptions): Promise<SessionStore> {
  // Commands fail after two reconnection attempts rather than waiting on a Redis that is gone.
  const redis = new Redis(url, {
    maxRetriesPerRequest: 2,
    lazyConnect: true,
    scripts,
  }) as ScriptedRedis;
  await redis.connect();
  // Connected now: a lazy connection's ready check would run after the first SUBSCRIBE and fail
  // in subscriber mode, losing the subscriptions made meanwhile.
  const subscriber = redis.duplicate();
  await subscriber.connect();
  let closed = false;
  for (const connection of [redis, subscriber]) {
    connection.on('error', (err) => log?.warn({ err }, 'Redis connection error'));
  }

  async function exec(multi: ReturnType<Redis['multi']>) {
    for (const [error] of (await multi.exec()) ?? []) if (error) throw error;
  }

  /** This process's subscribers of each session, and the last seq handed to them. */
  type Feed = { listeners: Set<EventListener>; lastSeq: Promise<number>; chain: Promise<void> };
  const feeds = new Map<string, Feed>();

  /** `attempt` until it succeeds, backing off, while `wanted()`; each failure is logged. */
  async function retrying<T>(
    sessionId: string,
    wanted: () => boolean,
    attempt: () => Promise<T>,
  ): Promise<T> {
    for (let failures = 0; ; failures++) {
      try {
        return await attempt();
      } catch (err) {
        if (!wanted()) throw err;
        log?.warn({ err, sessionId }, 'following a session in Redis failed; trying again');
        const delayMs = Math.min(5000, 100 * 2 ** failures);
        await new Promise((resolve) => setTimeout(resolve, delayMs).unref());
      }
    }
  }

  function deliver(sessionId: string, events: SessionEvent[]) {
    for (const listener of feeds.get(sessionId)?.listeners ?? []) {
      try {
        listener(events);
      } catch (err) {
        log?.error({ err, sessionId }, 'event subscriber failed');
      }
    }
  }

  /** Hands a feed the events after the seq it had, up to `seq`, read from the stream. */
  function catchUp(sessionId: string, seq: number) {
    const feed = feeds.get(sessionId);
    if (!feed) return;
    feed.chain = feed.chain.then(async () => {
      const lastSeq = await feed.lastSeq;
      if (seq <= lastSeq) return;
      const events = toEvents(
        (await redis.xrange(key.events(sessionId), after(lastSeq), entryId(seq))) as Entries,
      );
      feed.lastSeq = Promise.resolve(seq);
      if (events.length > 0 && feeds.get(sessionId) === feed) deliver(sessionId, events);
    });
    feed.chain.catch((err) => log?.warn({ err, sessionId }, 'reading appended events failed'));
  }

  subscriber.on('message', (channel: string, message: string) => {
    catchUp(channel.slice(key.appended('').length), Number(message));
  });

  /** One attempt at an append: the events appended, or undefined when another append came first. */
  async function tryAppend(sessionId: string, bodies: TimedEventBody[]) {
    const sessionKey = key.session(sessionId);
    const [record, lastSeqText, owner] = await redis.hmget(
      sessionKey,
      'record',
      'lastSeq',
      'owner',
    );
    if (!record) throw new Error(`Cannot append events: no session ${sessionId}`);
    const session = JSON.parse(record) as SessionRecord;
    const lastSeq = Number(lastSeqText);
    const events = acceptedEvents(session, bodies).map(
      ({ event_type, timestamp, ...fields }, index) =>
        ({
          event_type,
          session_id: sessionId,
          seq: lastSeq + index + 1,
          timestamp,
          ...fields,
        }) as SessionEvent,
    );
    if (events.length === 0) return events;
    const writes: Write[] = [];
    for (const event of events) {
      const encoded = JSON.stringify(event);
      writes.push(['XADD', key.events(sessionId), entryId(event.seq), 'event', encoded]);
      if (event.event_type === 'conversation_item') {
        writes.push(['XADD', key.items(sessionId), entryId(event.seq), 'event', encoded]);
      }
    }
    const next = applyEvents(session, events, new Date(clock()).toISOString());
    const seq = lastSeq + events.length;
    writes.push(['HSET', sessionKey, 'record', JSON.stringify(next), 'lastSeq', seq]);
    const activity = ms(next.lastActivityAt);
    if (next.endedAt !== null) {
      writes.push(['ZREM', key.open, sessionId], ['ZREM', key.live, sessionId]);
      if (owner) writes.push(['ZREM', key.owner(owner), sessionId]);
      writes.push(['ZADD', key.ended, ms(next.endedAt), sessionId]);
    } else {
      writes.push(['ZADD', key.open, activity, sessionId]);
      writes.push(
        next.live ? ['ZADD', key.live, activity, sessionId] : ['ZREM', key.live, sessionId],
      );
      if (owner) writes.push(['ZADD', key.owner(owner), activity, sessionId]);
    }
    writes.push(['PUBLISH', key.appended(sessionId), seq]);
    const committed = await redis.commitAppend(sessionKey, lastSeq, encodeWrites(writes));
    return committed === 1 ? events : undefined;
  }

  async function deleteSessions(ids: string[]) {
    for (const sessionId of ids) {
      const owner = await redis.hget(key.session(sessionId), 'owner');
      const multi = redis
        .multi()
        .del(key.session(sessionId), key.events(sessionId), key.items(sessionId))
        .zrem(key.open, sessionId)
        .zrem(key.live, sessionId)
        .zrem(key.ended, sessionId);
      if (owner) multi.zrem(key.owner(owner), sessionId);
      await exec(multi);
    }
    return ids.length;
  }

  return unavailableWhenDisconnected({
    kind: 'redis',
    async createSession({ owner, ...session }, limit) {
      const record: SessionRecord = {
        ...session,
        lastActivityAt: session.createdAt,
        endedAt: null,
        state: 'idle',
        live: false,
      };
      const sessionKey = key.session(session.sessionId);
      const created = ms(record.createdAt);
      const writes: Write[] = [
        ['HSET', sessionKey, 'record', JSON.stringify(record), 'lastSeq', 0, 'owner', owner ?? ''],
        ['ZADD', key.open, created, session.sessionId],
      ];
      if (owner) writes.push(['ZADD', key.owner(owner), created, session.sessionId]);
      const result = await redis.createSession(
        sessionKey,
        key.owner(owner ?? ''),
        limit ? `(${ms(limit.activeSince)}` : '-inf',
        limit && owner ? limit.max : -1,
        encodeWrites(writes),
      );
      if (result === 'exists') throw new Error(`A session ${session.sessionId} already exists`);
      if (result === 'limit') throw new OpenSessionLimitError(limit?.max ?? 0);
      return record;
    },
    async getSession(sessionId) {
      const record = await redis.hget(key.session(sessionId), 'record');
      return record ? (JSON.parse(record) as SessionRecord) : null;
    },
    async appendEvents(sessionId, bodies) {
      if (bodies.length === 0) return [];
      let events: SessionEvent[] | undefined;
      for (let attempt = 1; !events; attempt++) {
        if (attempt > MAX_ATTEMPTS)
          throw new Error(`Cannot append events: ${sessionId} is contended`);
        events = await tryAppend(sessionId, bodies);
      }
      const last = events.at(-1);
      const feed = feeds.get(sessionId);
      // This replica's subscribers get the batch now; the published seq then finds nothing new.
      if (last && feed) {
        feed.chain = feed.chain.then(async () => {
          const lastSeq = await feed.lastSeq;
          const fresh = events.filter((event) => event.seq > lastSeq);
          if (fresh[0]?.seq !== lastSeq + 1) return; // a gap: the stream read fills it
          feed.lastSeq = Promise.resolve(last.seq);
          deliver(sessionId, fresh);
        });
        await feed.chain.catch(() => {});
        catchUp(sessionId, last.seq);
      }
      return events;
    },
    async readEvents(sessionId, afterSeq, limit) {
      const entries = await redis.xrange(
        key.events(sessionId),
        after(afterSeq),
        '+',
        'COUNT',
        limit,
      );
      return toEvents(entries as Entries);
    },
    async readConversation(sessionId, last) {
      if (last === undefined || last < 0) {
        return toEvents(
          (await redis.xrange(key.items(sessionId), '-', '+')) as Entries,
        ) as ConversationItem[];
      }
      if (last === 0) return [];
      const entries = await redis.xrevrange(key.items(sessionId), '+', '-', 'COUNT', last);
      return toEvents((entries as Entries).reverse()) as ConversationItem[];
    },
    async readConversationAfter(sessionId, afterSeq, limit) {
      const entries = await redis.xrange(
        key.items(sessionId),
        after(afterSeq),
        '+',
        'COUNT',
        limit,
      );
      return toEvents(entries as Entries) as ConversationItem[];
    },
    async countSessions(activeSince) {
      const since = `(${ms(activeSince)}`;
      const [open, live] = await Promise.all([
        redis.zcount(key.open, since, '+inf'),
        redis.zcount(key.live, since, '+inf'),
      ]);
      return { open, live };
    },
    async deleteEndedBefore(endedBefore, idleBefore) {
      let deleted = 0;
      for (;;) {
        const ended = await redis.zrangebyscore(
          key.ended,
          '-inf',
          `(${ms(endedBefore)}`,
          'LIMIT',
          0,
          DELETE_BATCH,
        );
        const idle = idleBefore
          ? await redis.zrangebyscore(
              key.open,
              '-inf',
              `(${ms(idleBefore)}`,
              'LIMIT',
              0,
              DELETE_BATCH,
            )
          : [];
        if (ended.length + idle.length === 0) return deleted;
        deleted += await deleteSessions([...ended, ...idle]);
      }
    },
    subscribe(sessionId, listener) {
      let feed = feeds.get(sessionId);
      if (!feed) {
        // From now on: the last seq is read at once, so Redis answers it before any append this
        // process makes later. What another replica appends before the channel is joined comes
        // with its next event (the stream is read from this seq), or from the reader's replay.
        // While Redis is unreachable both are tried again until it is back, then the feed catches
        // up from the stream.
        const created: Feed = {
          listeners: new Set(),
          lastSeq: Promise.resolve(0),
          chain: Promise.resolve(),
        };
        const wanted = () => !closed && feeds.get(sessionId) === created;
        created.lastSeq = retrying(sessionId, wanted, async () =>
          Number((await redis.hget(key.session(sessionId), 'lastSeq')) ?? 0),
        );
        created.chain = created.lastSeq.then(() => {});
        created.chain.catch(() => {});
        void retrying(sessionId, wanted, () => subscriber.subscribe(key.appended(sessionId)))
          .then(async () => {
            const seq = await redis.hget(key.session(sessionId), 'lastSeq');
            catchUp(sessionId, Number(seq ?? 0));
          })
          .catch(() => {});
        feed = created;
        feeds.set(sessionId, feed);
      }
      const listeners = feed.listeners.add(listener);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && feeds.get(sessionId) === feed) {
          feeds.delete(sessionId);
          if (!closed) void subscriber.unsubscribe(key.appended(sessionId)).catch(() => {});
        }
      };
    },
    async isHealthy() {
      if (closed) return false;
      const timeout = new Promise<string>((resolve) =>
        setTimeout(resolve, HEALTH_TIMEOUT_MS, 'timeout').unref(),
      );
      return (await Promise.race([redis.ping().catch(() => 'error'), timeout])) === 'PONG';
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([redis.quit(), subscriber.quit()]).catch(() => {});
    },
  });
}
