/**
 * What every session store does, run against each (sqlite.test.ts, redis.test.ts): numbering,
 * atomic batches, session summaries, transcript pages, retention, fan-out, and what is left after
 * the store is closed and opened again.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionEvent, TimedEventBody } from '../../common/protocol.js';
import { newSession as newSessionOf } from '../../test/support/sessions.js';
import type { SessionStore } from './types.js';

export interface StoreBackend {
  /** A fresh, empty place for a store (a directory, a flushed database). */
  setUp(): Promise<void>;
  /** Opens a store there, with `clock` as the store's clock. */
  open(clock: () => number): Promise<SessionStore>;
  tearDown(): Promise<void>;
}

export function describeSessionStore(backend: StoreBackend): void {
  const newSession = (sessionId: string) =>
    newSessionOf(sessionId, {
      userId: 'alice',
      instructions: 'Be brief.',
      tools: [
        {
          name: 'lookup_order',
          description: 'Looks an order up.',
          parameters: { type: 'object', properties: { id: { type: 'string' } } },
          url: 'https://example.com/tools/lookup',
          timeoutMs: 5000,
          idempotent: false,
        },
      ],
      createdAt: '2025-01-01T00:00:00.000Z',
    });

  const at = (second: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, second)).toISOString();
  const transcript = (text: string, second = 1): TimedEventBody => ({
    event_type: 'transcription',
    text,
    is_final: true,
    is_interruption: false,
    timestamp: at(second),
  });

  let store: SessionStore;
  /** The store's clock, as an ISO time; it starts at the sessions' creation. */
  let now: string;
  const openStore = () => backend.open(() => Date.parse(now));

  beforeEach(async () => {
    await backend.setUp();
    now = at(0);
    store = await openStore();
    await store.createSession(newSession('s1'));
  });

  afterEach(async () => {
    await store.close();
    await backend.tearDown();
  });

  describe('sessions', () => {
    it('creates a session idle, not live, active at creation, and reads it back', async () => {
      const expected = {
        ...newSession('s1'),
        lastActivityAt: '2025-01-01T00:00:00.000Z',
        endedAt: null,
        state: 'idle',
        live: false,
      };
      expect(await store.getSession('s1')).toStrictEqual(expected);
      expect(await store.getSession('nobody')).toBeNull();
    });

    it('refuses a second session with the same id, and keeps the first', async () => {
      await store.appendEvents('s1', [transcript('first')]);
      await expect(
        store.createSession({ ...newSession('s1'), roomName: 'another' }),
      ).rejects.toThrow();
      expect(await store.getSession('s1')).toMatchObject({ roomName: 'session-s1' });
      expect(await store.readEvents('s1', 0, 10)).toHaveLength(1);
    });

    it('counts open sessions (not ended, active since) and those with an agent in a call', async () => {
      await store.createSession(newSession('s2'));
      await store.createSession(newSession('s3'));
      await store.createSession(newSession('s4'));
      const started = { event_type: 'session_started', room_name: 'r' } as const;
      now = at(5);
      await store.appendEvents('s1', [{ ...started, timestamp: at(5) }]);
      await store.appendEvents('s2', [{ ...started, timestamp: at(5) }]);
      now = at(6);
      await store.appendEvents('s2', [
        { event_type: 'session_ended', reason: 'x', timestamp: at(6) },
      ]);
      now = at(7);
      await store.appendEvents('s3', [transcript('typed', 7)]);

      // s1 live, s3 and s4 open; s2 ended. s4 has been idle since its creation at second 0.
      expect(await store.countSessions(at(0))).toStrictEqual({ open: 2, live: 1 });
      expect(await store.countSessions(at(-1))).toStrictEqual({ open: 3, live: 1 });
      expect(await store.countSessions(at(10))).toStrictEqual({ open: 0, live: 0 });
    });
  });

  describe('appendEvents and readEvents', () => {
    it('numbers events from 1 per session, in the documented key order', async () => {
      await store.createSession(newSession('s2'));
      const first = await store.appendEvents('s1', [transcript('a'), transcript('b')]);
      await store.appendEvents('s2', [transcript('other')]);
      const next = await store.appendEvents('s1', [transcript('c')]);

      expect(first.map((event) => event.seq)).toStrictEqual([1, 2]);
      expect(next.map((event) => event.seq)).toStrictEqual([3]);
      const stored = await store.readEvents('s1', 0, 10);
      expect(JSON.stringify(stored[0])).toBe(
        '{"event_type":"transcription","session_id":"s1","seq":1,"timestamp":"2025-01-01T00:00:01.000Z","text":"a","is_final":true,"is_interruption":false}',
      );
      expect(stored).toStrictEqual([...first, ...next]);
      expect((await store.readEvents('s2', 0, 10)).map((event) => event.seq)).toStrictEqual([1]);
    });

    it('reads the events after a seq, in order, at most `limit`', async () => {
      await store.appendEvents(
        's1',
        ['a', 'b', 'c', 'd', 'e'].map((text) => transcript(text)),
      );

      const texts = (events: SessionEvent[]) =>
        events.map((event) => 'text' in event && event.text);
      expect(texts(await store.readEvents('s1', 2, 2))).toStrictEqual(['c', 'd']);
      expect(texts(await store.readEvents('s1', 4, 100))).toStrictEqual(['e']);
      expect(await store.readEvents('s1', 5, 100)).toStrictEqual([]);
    });

    it('updates the session state, live flag, activity and end time with the batch', async () => {
      now = at(2);
      await store.appendEvents('s1', [
        { event_type: 'session_started', room_name: 'session-s1', timestamp: at(1) },
        {
          event_type: 'state_change',
          new_state: 'processing',
          previous_state: 'idle',
          timestamp: at(2),
        },
      ]);
      expect(await store.getSession('s1')).toMatchObject({
        state: 'processing',
        live: true,
        endedAt: null,
        lastActivityAt: at(2),
      });

      now = at(3);
      await store.appendEvents('s1', [
        { event_type: 'session_ended', reason: 'bye', timestamp: at(3) },
      ]);
      expect(await store.getSession('s1')).toMatchObject({ live: false, endedAt: at(3) });
    });

    it("stamps activity and the end with the store's clock, not the events' times, never back", async () => {
      now = at(10);
      await store.appendEvents('s1', [transcript('from a clock a year behind', -365 * 86_400)]);
      expect((await store.getSession('s1'))?.lastActivityAt).toBe(at(10));

      now = at(8);
      await store.appendEvents('s1', [
        transcript('from a clock a year ahead', 365 * 86_400),
        { event_type: 'session_ended', reason: 'bye', timestamp: at(365 * 86_400) },
      ]);
      expect(await store.getSession('s1')).toMatchObject({
        lastActivityAt: at(10),
        endedAt: at(10),
      });
      const stored = await store.readEvents('s1', 0, 10);
      expect(stored.map((event) => event.timestamp)).toStrictEqual([
        at(-365 * 86_400),
        at(365 * 86_400),
        at(365 * 86_400),
      ]);
    });

    it('keeps nothing of a batch that fails halfway, and numbering goes on from the last commit', async () => {
      await store.appendEvents('s1', [transcript('kept')]);
      // A field JSON cannot encode makes the second insert throw inside the transaction.
      const unencodable = { ...transcript('bad'), text: 1n } as unknown as TimedEventBody;

      await expect(store.appendEvents('s1', [transcript('lost'), unencodable])).rejects.toThrow();
      expect((await store.readEvents('s1', 0, 10)).map((event) => event.seq)).toStrictEqual([1]);
      expect((await store.appendEvents('s1', [transcript('next')]))[0]?.seq).toBe(2);
    });

    it('refuses events for an unknown session', async () => {
      await expect(store.appendEvents('nobody', [transcript('a')])).rejects.toThrow(/no session/);
      expect(await store.readEvents('nobody', 0, 10)).toStrictEqual([]);
    });
  });

  describe('readConversation', () => {
    const item = (text: string, role: 'user' | 'assistant' = 'user'): TimedEventBody => ({
      event_type: 'conversation_item',
      role,
      text,
      source: 'voice',
      item_id: `item-${text}`,
      timestamp: at(1),
    });

    it("answers the session's conversation items in order, skipping every other event", async () => {
      await store.createSession(newSession('s2'));
      await store.appendEvents('s1', [transcript('hi'), item('hi'), transcript('ok')]);
      await store.appendEvents('s2', [item('elsewhere')]);
      await store.appendEvents('s1', [item('hello', 'assistant'), transcript('bye'), item('bye')]);

      const items = await store.readConversation('s1');
      expect(items.map((event) => [event.seq, event.role, event.text])).toStrictEqual([
        [2, 'user', 'hi'],
        [4, 'assistant', 'hello'],
        [6, 'user', 'bye'],
      ]);
      expect(items[0]).toStrictEqual((await store.readEvents('s1', 1, 1))[0]);
      expect(await store.readConversation('nobody')).toStrictEqual([]);
    });

    it('answers only the last `last` items, still in order', async () => {
      await store.appendEvents(
        's1',
        ['a', 'b', 'c', 'd'].flatMap((text) => [transcript(text), item(text)]),
      );

      const texts = (items: { text: string }[]) => items.map((event) => event.text);
      expect(texts(await store.readConversation('s1', 2))).toStrictEqual(['c', 'd']);
      expect(texts(await store.readConversation('s1', 10))).toStrictEqual(['a', 'b', 'c', 'd']);
      expect(await store.readConversation('s1', 0)).toStrictEqual([]);
    });

    it('answers a page of the items after a seq, in order, at most `limit`', async () => {
      // Items at seq 2, 4, 6, 8.
      await store.appendEvents(
        's1',
        ['a', 'b', 'c', 'd'].flatMap((text) => [transcript(text), item(text)]),
      );

      const page = (afterSeq: number, limit: number) =>
        store
          .readConversationAfter('s1', afterSeq, limit)
          .then((items) => items.map((event) => [event.seq, event.text]));
      expect(await page(0, 2)).toStrictEqual([
        [2, 'a'],
        [4, 'b'],
      ]);
      expect(await page(4, 10)).toStrictEqual([
        [6, 'c'],
        [8, 'd'],
      ]);
      expect(await page(5, 1)).toStrictEqual([[6, 'c']]);
      expect(await page(8, 10)).toStrictEqual([]);
      expect(await store.readConversationAfter('nobody', 0, 10)).toStrictEqual([]);
      expect(await store.readConversationAfter('s1', 0, 10)).toStrictEqual(
        await store.readConversation('s1'),
      );
    });
  });

  describe('deleteEndedBefore', () => {
    const end = (sessionId: string) =>
      store.appendEvents(sessionId, [
        { event_type: 'session_ended', reason: 'bye', timestamp: now },
      ]);

    it('deletes the sessions that ended before the time, with their events, and no other', async () => {
      await store.createSession(newSession('s2'));
      await store.createSession(newSession('s3'));
      await store.appendEvents('s1', [transcript('a'), transcript('b')]);
      await store.appendEvents('s2', [transcript('c')]);
      now = at(10);
      await end('s1');
      now = at(20);
      await end('s2');

      expect(await store.deleteEndedBefore(at(20))).toBe(1);
      expect(await store.getSession('s1')).toBeNull();
      expect(await store.readEvents('s1', 0, 10)).toStrictEqual([]);
      expect(await store.getSession('s2')).not.toBeNull();
      expect(await store.readEvents('s2', 0, 10)).toHaveLength(2);
      // s3 never ended, and without idleBefore stays whatever its age.
      expect(await store.getSession('s3')).not.toBeNull();
      expect(await store.deleteEndedBefore(at(20))).toBe(0);
    });

    it('with idleBefore, also deletes the sessions never ended and idle since before it', async () => {
      await store.createSession(newSession('s2'));
      now = at(30);
      await store.appendEvents('s2', [transcript('still here')]);

      expect(await store.deleteEndedBefore(at(0), at(30))).toBe(1);
      expect(await store.getSession('s1')).toBeNull();
      expect(await store.getSession('s2')).not.toBeNull();
    });

    it('deletes more sessions than one batch holds', async () => {
      const ids = Array.from({ length: 120 }, (_, index) => `old-${index}`);
      for (const id of ids) {
        await store.createSession(newSession(id));
        await end(id);
      }

      expect(await store.deleteEndedBefore(at(1))).toBe(120);
      expect(await store.countSessions(at(-1))).toStrictEqual({ open: 1, live: 0 });
    });
  });

  describe('subscribe', () => {
    it('hands every later batch to the session subscribers, after it is committed', async () => {
      await store.createSession(newSession('s2'));
      const seen: number[][] = [];
      const committed: Promise<number>[] = [];
      store.subscribe('s1', (events) => {
        seen.push(events.map((event) => event.seq));
        // The store takes the query when it is called: the log as the listener sees it.
        committed.push(store.readEvents('s1', 0, 100).then((log) => log.length));
      });
      const other: SessionEvent[] = [];
      store.subscribe('s2', (events) => other.push(...events));

      await store.appendEvents('s1', [transcript('a'), transcript('b')]);
      await store.appendEvents('s1', [transcript('c')]);

      expect(seen).toStrictEqual([[1, 2], [3]]);
      expect(await Promise.all(committed)).toStrictEqual([2, 3]);
      expect(other).toStrictEqual([]);
    });

    it('keeps appending and notifying the others when a subscriber throws', async () => {
      const seen: number[] = [];
      store.subscribe('s1', () => {
        throw new Error('broken subscriber');
      });
      store.subscribe('s1', (events) => seen.push(...events.map((event) => event.seq)));

      const appended = await store.appendEvents('s1', [transcript('a')]);
      expect(appended).toHaveLength(1);
      expect(seen).toStrictEqual([1]);
    });

    it('stops calling a subscriber once it unsubscribes', async () => {
      const seen: number[] = [];
      const unsubscribe = store.subscribe('s1', (events) => seen.push(events.length));
      await store.appendEvents('s1', [transcript('a')]);
      unsubscribe();
      unsubscribe();
      await store.appendEvents('s1', [transcript('b')]);

      expect(seen).toStrictEqual([1]);
    });
  });

  describe('close', () => {
    it('keeps sessions and events across close and reopen', async () => {
      now = at(2);
      await store.appendEvents('s1', [
        { event_type: 'session_started', room_name: 'session-s1', timestamp: at(1) },
        transcript('before restart', 2),
      ]);
      const before = await store.readEvents('s1', 0, 10);
      await store.close();
      now = at(3);

      store = await openStore();
      expect(await store.readEvents('s1', 0, 10)).toStrictEqual(before);
      expect(await store.getSession('s1')).toMatchObject({ live: true, lastActivityAt: at(2) });
      expect((await store.appendEvents('s1', [transcript('after', 3)]))[0]?.seq).toBe(3);
    });

    it('is healthy while open and not after close', async () => {
      expect(await store.isHealthy()).toBe(true);
      await store.close();
      expect(await store.isHealthy()).toBe(false);
    });
  });
}
