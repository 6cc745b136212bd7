/**
 * The SQLite store on a real file in a temporary directory: numbering, atomic batches, session
 * summaries, fan-out, and what is left after a restart or a crash.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionEvent, TimedEventBody } from '../../common/protocol.js';
import { openSqliteStore } from './sqlite.js';
import type { NewSession, SessionStore } from './types.js';

const newSession = (sessionId: string): NewSession => ({
  sessionId,
  roomName: `session-${sessionId}`,
  participantIdentity: `user-${sessionId}`,
  userId: 'alice',
  username: null,
  instructions: 'Be brief.',
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

let dataDir: string;
let store: SessionStore;

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sqlite-store-'));
  store = await openSqliteStore({ dataDir });
  await store.createSession(newSession('s1'));
});

afterEach(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
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

  it('refuses a second session with the same id', async () => {
    await expect(store.createSession(newSession('s1'))).rejects.toThrow(/UNIQUE/);
  });

  it('counts open sessions (not ended, active since) and those with an agent in a call', async () => {
    await store.createSession(newSession('s2'));
    await store.createSession(newSession('s3'));
    await store.createSession(newSession('s4'));
    const started = { event_type: 'session_started', room_name: 'r' } as const;
    await store.appendEvents('s1', [{ ...started, timestamp: at(5) }]);
    await store.appendEvents('s2', [{ ...started, timestamp: at(5) }]);
    await store.appendEvents('s2', [
      { event_type: 'session_ended', reason: 'x', timestamp: at(6) },
    ]);
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

    const texts = (events: SessionEvent[]) => events.map((event) => 'text' in event && event.text);
    expect(texts(await store.readEvents('s1', 2, 2))).toStrictEqual(['c', 'd']);
    expect(texts(await store.readEvents('s1', 4, 100))).toStrictEqual(['e']);
    expect(await store.readEvents('s1', 5, 100)).toStrictEqual([]);
  });

  it('updates the session state, live flag and activity time with the batch', async () => {
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

    await store.appendEvents('s1', [
      { event_type: 'session_ended', reason: 'bye', timestamp: at(3) },
    ]);
    expect(await store.getSession('s1')).toMatchObject({ live: false, endedAt: at(3) });
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
});

describe('subscribe', () => {
  it('hands every later batch to the session subscribers, after it is committed', async () => {
    await store.createSession(newSession('s2'));
    const seen: number[][] = [];
    const committed: number[] = [];
    store.subscribe('s1', (events) => {
      seen.push(events.map((event) => event.seq));
      // readEvents runs its query when called, so this is the log as the listener sees it.
      void store.readEvents('s1', 0, 100).then((log) => committed.push(log.length));
    });
    const other: SessionEvent[] = [];
    store.subscribe('s2', (events) => other.push(...events));

    await store.appendEvents('s1', [transcript('a'), transcript('b')]);
    await store.appendEvents('s1', [transcript('c')]);

    expect(seen).toStrictEqual([[1, 2], [3]]);
    expect(committed).toStrictEqual([2, 3]);
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

describe('the database file', () => {
  it('uses write-ahead logging', async () => {
    await store.appendEvents('s1', [transcript('a')]);
    expect(existsSync(join(dataDir, 'sessions.db-wal'))).toBe(true);
  });

  it('keeps sessions and events across close and reopen', async () => {
    await store.appendEvents('s1', [
      { event_type: 'session_started', room_name: 'session-s1', timestamp: at(1) },
      transcript('before restart', 2),
    ]);
    const before = await store.readEvents('s1', 0, 10);
    await store.close();

    store = await openSqliteStore({ dataDir });
    expect(await store.readEvents('s1', 0, 10)).toStrictEqual(before);
    expect(await store.getSession('s1')).toMatchObject({ live: true, lastActivityAt: at(2) });
    expect((await store.appendEvents('s1', [transcript('after', 3)]))[0]?.seq).toBe(3);
  });

  it('refuses a file another process has open, and opens it once that process is killed', async () => {
    await store.close();
    const storeModule = fileURLToPath(new URL('./sqlite.ts', import.meta.url));
    const script = `
      const { openSqliteStore } = await import(${JSON.stringify(storeModule)});
      const store = await openSqliteStore({ dataDir: ${JSON.stringify(dataDir)} });
      await store.appendEvents('s1', [${JSON.stringify(transcript('last words'))}]);
      console.log('appended');
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.includes('appended') && resolve());
      child.on('exit', (code) => reject(new Error(`child exited with ${code}`)));
    });
    await expect(openSqliteStore({ dataDir })).rejects.toThrow(`in use by process ${child.pid}`);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(existsSync(join(dataDir, 'sessions.db.lock'))).toBe(true);

    store = await openSqliteStore({ dataDir });
    const events = await store.readEvents('s1', 0, 10);
    expect(events.map((event) => 'text' in event && event.text)).toStrictEqual(['last words']);
  });

  it('refuses a second open of the same file while the first is open', async () => {
    await expect(openSqliteStore({ dataDir })).rejects.toThrow(/already open/);
    expect(await store.isHealthy()).toBe(true);
  });

  it('is healthy while open and not after close', async () => {
    expect(await store.isHealthy()).toBe(true);
    await store.close();
    expect(await store.isHealthy()).toBe(false);
  });
});
