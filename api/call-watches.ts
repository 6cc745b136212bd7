/**
 * Where call recovery keeps its watches (call-recovery.ts) and when each is next looked at. One
 * API keeps them in memory, on timers. Several replicas keep them in Redis (REDIS_URL): every
 * replica polls for watches that are due and looks at one only under a lease, so no two act on the
 * same call at once, and when the replica that began a watch dies its lease runs out and another
 * carries the watch on, with its dispatches and departed agents.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Failure } from './call-recovery.js';

export interface Watch {
  /** Why the call needs an agent, for the first `error` it reports. */
  failure: Failure;
  /** Agents that were in the call and left: their jobs are over. */
  departed: string[];
  dispatches: number;
  /** Looks that failed (LiveKit or the store not answering). */
  failures: number;
  /** When the watch began (ms since the epoch). */
  armedAt: number;
}

/** A look at a due watch, which it may change: when to look again, or undefined when it is over. */
export type Look = (roomName: string, watch: Watch) => Promise<number | undefined>;

/** A change to a room's watch (undefined: none yet): the watch and when it is due, or no change. */
export type WatchChange = (
  watch: Watch | undefined,
) => { watch: Watch; dueInMs: number } | undefined;

export interface WatchBook {
  arm(roomName: string, change: WatchChange): Promise<void>;
  /** Looks at each watch when it is due, one look at a time per watch. */
  start(look: Look, onError: (err: unknown, roomName: string) => void): void;
  close(): Promise<void>;
}

export function memoryWatchBook(): WatchBook {
  const entries = new Map<string, { watch: Watch; timer?: NodeJS.Timeout; looking: boolean }>();
  let looker: { look: Look; onError: (err: unknown, roomName: string) => void } | undefined;

  type Entry = NonNullable<ReturnType<typeof entries.get>>;
  const schedule = (roomName: string, entry: Entry, delayMs: number) => {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => void run(roomName, entry), delayMs).unref();
  };
  const run = async (roomName: string, entry: Entry) => {
    if (entry.looking || !looker) return;
    entry.looking = true;
    let next: number | undefined;
    try {
      next = await looker.look(roomName, entry.watch);
    } catch (err) {
      looker.onError(err, roomName);
    } finally {
      entry.looking = false;
    }
    if (next === undefined) entries.delete(roomName);
    else schedule(roomName, entry, next);
  };

  return {
    async arm(roomName, change) {
      const entry = entries.get(roomName);
      const changed = change(entry?.watch);
      if (!changed) return;
      const next = entry ?? { watch: changed.watch, looking: false };
      next.watch = changed.watch;
      entries.set(roomName, next);
      schedule(roomName, next, changed.dueInMs);
    },
    start(look, onError) {
      looker = { look, onError };
    },
    async close() {
      for (const entry of entries.values()) clearTimeout(entry.timer);
      looker = undefined;
    },
  };
}

export interface RedisWatchBookOptions {
  /** How often each replica looks for due watches. */
  pollMs?: number;
  /** How long a replica holds a watch while it looks at it or changes it; a dead one's runs out. */
  leaseMs?: number;
}

const watchKey = (roomName: string) => `va:watch:${roomName}`;
const leaseKey = (roomName: string) => `va:watch-lease:${roomName}`;
/** Watches by when they are due (ms since the epoch). */
const DUE = 'va:watches';
/** Deletes the lease only if it is still the holder's (it may have run out and been taken). */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
/** Due watches handled per poll. */
const POLL_BATCH = 20;
const ARM_RETRY_MS = 50;

export function redisWatchBook(
  redis: Redis,
  { pollMs = 500, leaseMs = 30_000 }: RedisWatchBookOptions = {},
): WatchBook {
  let poller: NodeJS.Timeout | undefined;
  let polling: Promise<void> = Promise.resolve();
  let closed = false;

  /** Runs `work` holding the room's lease; false when another holds it. */
  async function withLease(roomName: string, work: () => Promise<void>): Promise<boolean> {
    const token = randomUUID();
    if ((await redis.set(leaseKey(roomName), token, 'PX', leaseMs, 'NX')) !== 'OK') return false;
    try {
      await work();
    } finally {
      await redis.eval(RELEASE, 1, leaseKey(roomName), token);
    }
    return true;
  }

  const read = async (roomName: string) => {
    const stored = await redis.get(watchKey(roomName));
    return stored ? (JSON.parse(stored) as Watch) : undefined;
  };
  const write = (roomName: string, watch: Watch, dueInMs: number) =>
    redis
      .multi()
      .set(watchKey(roomName), JSON.stringify(watch))
      .zadd(DUE, Date.now() + dueInMs, roomName)
      .exec();
  const remove = (roomName: string) =>
    redis.multi().del(watchKey(roomName)).zrem(DUE, roomName).exec();

  async function poll(look: Look, onError: (err: unknown, roomName: string) => void) {
    const due = await redis.zrangebyscore(DUE, '-inf', Date.now(), 'LIMIT', 0, POLL_BATCH);
    for (const roomName of due) {
      if (closed) return;
      try {
        await withLease(roomName, async () => {
          // Another replica may have looked at it between the list and the lease: still due?
          const due = await redis.zscore(DUE, roomName);
          if (due !== null && Number(due) > Date.now()) return;
          const watch = await read(roomName);
          const next = watch === undefined ? undefined : await look(roomName, watch);
          if (watch === undefined || next === undefined) await remove(roomName);
          else await write(roomName, watch, next);
        });
      } catch (err) {
        onError(err, roomName);
      }
    }
  }

  return {
    async arm(roomName, change) {
      // A look holds the lease for as long as it talks to LiveKit: wait for it, within the lease.
      for (const deadline = Date.now() + leaseMs; ; ) {
        const held = await withLease(roomName, async () => {
          const changed = change(await read(roomName));
          if (changed) await write(roomName, changed.watch, changed.dueInMs);
        });
        if (held) return;
        if (Date.now() > deadline) throw new Error(`the watch of ${roomName} stayed taken`);
        await new Promise((resolve) => setTimeout(resolve, ARM_RETRY_MS));
      }
    },
    start(look, onError) {
      let busy = false;
      poller = setInterval(() => {
        if (busy) return;
        busy = true;
        polling = poll(look, onError)
          .catch((err) => onError(err, '(poll)'))
          .finally(() => {
            busy = false;
          });
      }, pollMs).unref();
    },
    async close() {
      closed = true;
      clearInterval(poller);
      await polling;
    },
  };
}
