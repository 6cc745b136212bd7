/**
 * The embedded session store: one SQLite file in DATA_DIR (see sqlite-database.ts), owned by one
 * API process, with in-process fan-out to subscribers. Several API replicas use the Redis store
 * instead.
 */
import type { Logger } from 'pino';
import type { SessionEvent, TimedEventBody } from '../../common/protocol.js';
import { acceptedEvents, applyEvents } from './session-state.js';
import { openDatabase } from './sqlite-database.js';
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
  /** The store's clock (ms since the epoch), which stamps activity; tests set it. */
  clock?: () => number;
}

const SESSION_COLUMNS = `session_id AS sessionId, room_name AS roomName,
  participant_identity AS participantIdentity, user_id AS userId, username, instructions, tools,
  created_at AS createdAt, last_activity_at AS lastActivityAt, ended_at AS endedAt, state, live`;

/** Sessions deleted per statement by the retention sweep, which lets requests in between. */
const DELETE_BATCH = 50;

type Row = Record<string, unknown>;

const toSession = (row: Row) =>
  ({
    ...row,
    tools: typeof row.tools === 'string' ? JSON.parse(row.tools) : null,
    live: row.live === 1,
  }) as unknown as SessionRecord;

/** The wire shape, keys in the documented order; `body` holds the fields beyond the columns. */
const toEvent = (sessionId: string, row: Row) =>
  ({
    event_type: row.event_type,
    session_id: sessionId,
    seq: row.seq,
    timestamp: row.timestamp,
    ...JSON.parse(row.body as string),
  }) as SessionEvent;

const toItem = (sessionId: string) => (row: Row) => toEvent(sessionId, row) as ConversationItem;

export async function openSqliteStore({
  dataDir,
  log,
  clock = () => Date.now(),
}: SqliteStoreOptions): Promise<SessionStore> {
  const db = openDatabase(dataDir);
  const query = {
    insertSession: db.prepare(
      `INSERT INTO sessions (session_id, room_name, participant_identity, user_id, username,
         instructions, tools, created_at, last_activity_at, ended_at, state, live, owner)
       VALUES (:sessionId, :roomName, :participantIdentity, :userId, :username, :instructions,
         :tools, :createdAt, :createdAt, NULL, 'idle', 0, :owner)`,
    ),
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
    insertEvent: db.prepare(
      'INSERT INTO events (session_id, seq, event_type, timestamp, body) VALUES (?, ?, ?, ?, ?)',
    ),
    readEvents: db.prepare(
      `SELECT seq, event_type, timestamp, body FROM events
       WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    ),
    // Transcript reads name their index: left to itself, the planner walks the session's whole
    // log by primary key and filters it (SQLite 3.53, without ANALYZE statistics).
    // The last `limit` items (all of them for a negative limit), in order.
    readLastItems: db.prepare(
      `SELECT * FROM (
         SELECT seq, event_type, timestamp, body FROM events INDEXED BY events_by_type
         WHERE session_id = ? AND event_type = 'conversation_item' ORDER BY seq DESC LIMIT ?
       ) ORDER BY seq`,
    ),
    readItemsAfter: db.prepare(
      `SELECT seq, event_type, timestamp, body FROM events INDEXED BY events_by_type
       WHERE session_id = ? AND event_type = 'conversation_item' AND seq > ? ORDER BY seq LIMIT ?`,
    ),
    // Events go with their session (ON DELETE CASCADE). A NULL idleBefore matches no open session.
    deleteEnded: db.prepare(
      `DELETE FROM sessions WHERE session_id IN (
         SELECT session_id FROM sessions WHERE ended_at < :endedBefore
         UNION ALL
         SELECT session_id FROM sessions WHERE ended_at IS NULL AND last_activity_at < :idleBefore
         LIMIT ${DELETE_BATCH})`,
    ),
    healthCheck: db.prepare('SELECT 1 AS ok'),
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
          query.insertEvent.run(sessionId, seq, event_type, timestamp, JSON.stringify(fields));
          return { event_type, session_id: sessionId, seq, timestamp, ...fields } as SessionEvent;
        },
      );
      const now = new Date(clock()).toISOString();
      const session = applyEvents(toSession(row), events, now);
      query.updateSession.run(
        session.lastActivityAt,
        session.endedAt,
        session.state,
        session.live ? 1 : 0,
        sessionId,
      );
      db.exec('COMMIT');
      return events;
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }

  return {
    kind: 'sqlite',
    async createSession({ owner = null, ...session }, limit) {
      // Counted and inserted in one synchronous step: nothing else runs in between.
      if (limit && owner !== null) {
        const open = query.countOpenSessions.get(owner, limit.activeSince)?.open as number;
        if (open >= limit.max) throw new OpenSessionLimitError(limit.max);
      }
      query.insertSession.run({
        ...session,
        tools: session.tools ? JSON.stringify(session.tools) : null,
        owner,
      });
      return {
        ...session,
        lastActivityAt: session.createdAt,
        endedAt: null,
        state: 'idle',
        live: false,
      };
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
      return query.readEvents.all(sessionId, afterSeq, limit).map((row) => toEvent(sessionId, row));
    },
    async readConversation(sessionId, last = -1) {
      return query.readLastItems.all(sessionId, last).map(toItem(sessionId));
    },
    async readConversationAfter(sessionId, afterSeq, limit) {
      return query.readItemsAfter.all(sessionId, afterSeq, limit).map(toItem(sessionId));
    },
    async deleteEndedBefore(endedBefore, idleBefore) {
      let deleted = 0;
      for (;;) {
        const { changes } = query.deleteEnded.run({ endedBefore, idleBefore: idleBefore ?? null });
        deleted += Number(changes);
        if (Number(changes) < DELETE_BATCH) return deleted;
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
    async countSessions(activeSince) {
      const row = query.countSessions.get(activeSince);
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
        return query.healthCheck.get()?.ok === 1;
      } catch {
        return false;
      }
    },
    async close() {
      if (db.isOpen) db.close();
    },
  };
}
