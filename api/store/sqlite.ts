/**
 * The embedded session store: one SQLite file, `${dataDir}/sessions.db`, owned by one API process,
 * with in-process fan-out to subscribers. SQLite comes from node-sqlite3-wasm (compiled to
 * WebAssembly: nothing native to build). Several API replicas use the Redis store instead.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import sqlite from 'node-sqlite3-wasm';
import type { Logger } from 'pino';
import type { SessionEvent, TimedEventBody } from '../../common/protocol.js';
import { acceptedEvents, applyEvents } from './session-state.js';
import { claimDatabase } from './sqlite-lock.js';
import {
  type ConversationItem,
  type EventListener,
  OpenSessionLimitError,
  type SessionRecord,
  type SessionStore,
} from './types.js';

export interface SqliteStoreOptions {
  dataDir: string;
  log?: Logger;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY,
    room_name TEXT NOT NULL,
    participant_identity TEXT NOT NULL,
    user_id TEXT,
    username TEXT,
    instructions TEXT,
    created_at TEXT NOT NULL,
    last_activity_at TEXT NOT NULL,
    ended_at TEXT,
    state TEXT NOT NULL,
    live INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE IF NOT EXISTS events (
    session_id TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
  ) STRICT, WITHOUT ROWID;
  -- A session's events of one type, in order: its transcript without reading the rest of its log.
  CREATE INDEX IF NOT EXISTS events_by_type ON events (session_id, event_type, seq);
  CREATE INDEX IF NOT EXISTS sessions_open ON sessions (last_activity_at) WHERE ended_at IS NULL;`;

/**
 * Added after the first release: a database from before it gains the column on open. Sessions
 * from then have no owner and count against no one's cap.
 */
function addOwnerColumn(db: sqlite.Database) {
  const columns = db.all('PRAGMA table_info(sessions)').map((column) => column.name);
  if (!columns.includes('owner')) db.exec('ALTER TABLE sessions ADD COLUMN owner TEXT');
  db.exec(`CREATE INDEX IF NOT EXISTS sessions_open_by_owner
    ON sessions (owner, ended_at, last_activity_at) WHERE owner IS NOT NULL`);
}

const SESSION_COLUMNS = `session_id AS sessionId, room_name AS roomName,
  participant_identity AS participantIdentity, user_id AS userId, username, instructions,
  created_at AS createdAt, last_activity_at AS lastActivityAt, ended_at AS endedAt, state, live`;

/** SessionRecord fields in the order of the sessions table's columns. */
const SESSION_FIELDS = [
  'sessionId',
  'roomName',
  'participantIdentity',
  'userId',
  'username',
  'instructions',
  'createdAt',
  'lastActivityAt',
  'endedAt',
  'state',
  'live',
] as const satisfies readonly (keyof SessionRecord)[];

type Row = Record<string, unknown>;

const toSession = (row: Row) => ({ ...row, live: row.live === 1 }) as unknown as SessionRecord;

/** The wire shape, keys in the documented order; `body` holds the fields beyond the columns. */
const toEvent = (sessionId: string, row: Row) =>
  ({
    event_type: row.event_type,
    session_id: sessionId,
    seq: row.seq,
    timestamp: row.timestamp,
    ...JSON.parse(row.body as string),
  }) as SessionEvent;

export async function openSqliteStore({ dataDir, log }: SqliteStoreOptions): Promise<SessionStore> {
  mkdirSync(dataDir, { recursive: true });
  const file = resolve(dataDir, 'sessions.db');
  const lock = claimDatabase(file, log);
  const db = new sqlite.Database(file);
  // WAL needs shared memory, which this VFS lacks, unless the connection keeps the lock for its
  // whole life (exclusive mode). WAL with synchronous=NORMAL fsyncs at checkpoints, not on every
  // commit: a process crash loses nothing, a power cut at most the last commits.
  try {
    db.exec(`PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; ${SCHEMA}`);
    addOwnerColumn(db);
  } catch (error) {
    db.close();
    lock.release();
    throw error;
  }

  const query = {
    insertSession: db.prepare(`INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    countOpenSessions: db.prepare(
      `SELECT count(*) AS open FROM sessions
       WHERE owner = ? AND ended_at IS NULL AND last_activity_at > ?`,
    ),
    countSessions: db.prepare(
      `SELECT count(*) AS open, coalesce(sum(live), 0) AS live FROM sessions
       WHERE ended_at IS NULL AND last_activity_at > ?`,
    ),
    getSession: db.prepare(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE session_id = ?`),
    updateSession: db.prepare(
      `UPDATE sessions SET last_activity_at = ?, ended_at = ?, state = ?, live = ?
       WHERE session_id = ?`,
    ),
    lastSeq: db.prepare('SELECT coalesce(max(seq), 0) AS seq FROM events WHERE session_id = ?'),
    insertEvent: db.prepare('INSERT INTO events VALUES (?, ?, ?, ?, ?)'),
    readEvents: db.prepare(
      `SELECT seq, event_type, timestamp, body FROM events
       WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    ),
    // The last `limit` items (all of them for a negative limit), in order.
    readConversation: db.prepare(
      `SELECT * FROM (
         SELECT seq, event_type, timestamp, body FROM events
         WHERE session_id = ? AND event_type = 'conversation_item' ORDER BY seq DESC LIMIT ?
       ) ORDER BY seq`,
    ),
  };
  const subscribers = new Map<string, Set<EventListener>>();

  function publish(sessionId: string, events: SessionEvent[]) {
    for (const listener of subscribers.get(sessionId) ?? []) {
      try {
        listener(events);
      } catch (err) {
        log?.error({ err, sessionId }, 'event subscriber failed');
      }
    }
  }

  /** Inserts the batch and updates the session in one transaction; nothing is kept on failure. */
  function insertEvents(sessionId: string, bodies: TimedEventBody[]): SessionEvent[] {
    db.exec('BEGIN IMMEDIATE');
    try {
      const row = query.getSession.get(sessionId);
      if (!row) throw new Error(`Cannot append events: no session ${sessionId}`);
      const lastSeq = query.lastSeq.get(sessionId)?.seq as number;
      const events = acceptedEvents(toSession(row), bodies).map(
        ({ event_type, timestamp, ...fields }, index) => {
          const seq = lastSeq + index + 1;
          query.insertEvent.run([sessionId, seq, event_type, timestamp, JSON.stringify(fields)]);
          return { event_type, session_id: sessionId, seq, timestamp, ...fields } as SessionEvent;
        },
      );
      const session = applyEvents(toSession(row), events);
      query.updateSession.run([
        session.lastActivityAt,
        session.endedAt,
        session.state,
        session.live,
        sessionId,
      ]);
      db.exec('COMMIT');
      return events;
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }

  return {
    kind: 'sqlite',
    async createSession({ owner = null, ...session }, limit) {
      // Counted and inserted in one synchronous step: nothing else runs in between.
      if (limit && owner !== null) {
        const open = query.countOpenSessions.get([owner, limit.activeSince])?.open as number;
        if (open >= limit.max) throw new OpenSessionLimitError(limit.max);
      }
      const record: SessionRecord = {
        ...session,
        lastActivityAt: session.createdAt,
        endedAt: null,
        state: 'idle',
        live: false,
      };
      query.insertSession.run([...SESSION_FIELDS.map((field) => record[field]), owner]);
      return record;
    },
    async getSession(sessionId) {
      const row = query.getSession.get(sessionId);
      return row ? toSession(row) : null;
    },
    async appendEvents(sessionId, bodies) {
      if (bodies.length === 0) return [];
      const events = insertEvents(sessionId, bodies);
      if (events.length > 0) publish(sessionId, events);
      return events;
    },
    async readEvents(sessionId, afterSeq, limit) {
      return query.readEvents
        .all([sessionId, afterSeq, limit])
        .map((row) => toEvent(sessionId, row));
    },
    async readConversation(sessionId, last = -1) {
      return query.readConversation
        .all([sessionId, last])
        .map((row) => toEvent(sessionId, row) as ConversationItem);
    },
    async countSessions(activeSince) {
      const row = query.countSessions.get([activeSince]);
      return { open: row?.open as number, live: row?.live as number };
    },
    subscribe(sessionId, listener) {
      const listeners = subscribers.get(sessionId) ?? new Set();
      subscribers.set(sessionId, listeners.add(listener));
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && subscribers.get(sessionId) === listeners) {
          subscribers.delete(sessionId);
        }
      };
    },
    async isHealthy() {
      try {
        return db.get('SELECT 1 AS ok')?.ok === 1;
      } catch {
        return false;
      }
    },
    async close() {
      if (!db.isOpen) return;
      for (const statement of Object.values(query)) {
        try {
          statement.finalize();
        } catch {
          // finalize repeats the error of the statement's last failed run; it is freed regardless.
        }
      }
      db.close();
      lock.release();
    },
  };
}
