/**
 * The session store: sessions and their append-only event logs, with live fan-out to subscribers.
 * The embedded implementation is SQLite in DATA_DIR; another (Redis, for several API replicas)
 * implements the same interface, and routes only ever see this one.
 */
import type { SessionEvent, TimedEventBody, TurnState } from '../../common/protocol.js';
import type { HttpTool } from '../../common/tools/declarations.js';

export interface SessionRecord {
  sessionId: string;
  roomName: string;
  participantIdentity: string;
  userId: string | null;
  username: string | null;
  instructions: string | null;
  /** HTTP tools the session brought (POST /api/sessions `tools`), besides the configured ones. */
  tools: HttpTool[] | null;
  createdAt: string;
  /** When the store last appended to the session's log (its creation before that), by its clock. */
  lastActivityAt: string;
  /**
   * When the store appended the session's `session_ended`, by its clock; an ended session takes no
   * new call.
   */
  endedAt: string | null;
  /** The latest turn state, from the last state_change. */
  state: TurnState;
  /** An agent is in the call: between session_started and session_ended. */
  live: boolean;
}

export type NewSession = Omit<SessionRecord, 'lastActivityAt' | 'endedAt' | 'state' | 'live'> & {
  /** Who opened it (an API key's id, or a client address), for the cap on open sessions. */
  owner?: string;
};

/** At most `max` open sessions per owner (counted as `countSessions` counts them, per owner). */
export interface OpenSessionLimit {
  max: number;
  /** ISO 8601: a session idle since before it has expired and does not count. */
  activeSince: string;
}

/** The owner of a new session already has the most open sessions its limit allows. */
export class OpenSessionLimitError extends Error {
  override name = 'OpenSessionLimitError';
  constructor(readonly max: number) {
    super(`The owner already has ${max} open sessions.`);
  }
}

/** The store cannot be reached (Redis down or restarting): the API answers 503 `store_unavailable`. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
}

export type EventListener = (events: SessionEvent[]) => void;

/** A message of the conversation, spoken or typed, as the log keeps it. */
export type ConversationItem = Extract<SessionEvent, { event_type: 'conversation_item' }>;

export interface SessionStore {
  /** Short name for /health, e.g. `sqlite`. */
  readonly kind: string;
  /**
   * Creates the session; with a limit, only if its owner holds fewer open sessions than that, in
   * the same atomic step (else OpenSessionLimitError), so two at once cannot both pass the cap.
   */
  createSession(session: NewSession, limit?: OpenSessionLimit): Promise<SessionRecord>;
  getSession(sessionId: string): Promise<SessionRecord | null>;
  /**
   * Appends events in order, numbering them from the session's last seq + 1, updates the
   * session's state, live flag and activity time (the store's clock at the append, not the events'
   * timestamps), and hands them to subscribers. Atomic. Nothing
   * is appended after the session's `session_ended` (see `acceptedEvents`); answers what was.
   */
  appendEvents(sessionId: string, events: TimedEventBody[]): Promise<SessionEvent[]>;
  /** Events with seq > afterSeq, in order, at most `limit`. */
  readEvents(sessionId: string, afterSeq: number, limit: number): Promise<SessionEvent[]>;
  /**
   * The session's transcript: its `conversation_item` events in order, only the last `last` of
   * them when given. Stores answer it without reading the rest of the log.
   */
  readConversation(sessionId: string, last?: number): Promise<ConversationItem[]>;
  /**
   * A page of the transcript: its `conversation_item` events with seq > afterSeq, in order, at
   * most `limit`, read without the rest of the log.
   */
  readConversationAfter(
    sessionId: string,
    afterSeq: number,
    limit: number,
  ): Promise<ConversationItem[]>;
  /**
   * How many sessions are open: not ended, and active after `activeSince` (ISO 8601; a session
   * idle since before it has expired, though nothing has ended it yet), and how many of them have
   * an agent in a call.
   */
  countSessions(activeSince: string): Promise<{ open: number; live: number }>;
  /**
   * Deletes the sessions, and their events, that ended before `endedBefore` (ISO 8601) and, when
   * `idleBefore` is given, those never ended with no activity since it (expired long ago: expiry
   * ends a session only when someone next uses it). Answers how many it deleted.
   */
  deleteEndedBefore(endedBefore: string, idleBefore?: string): Promise<number>;
  /** Calls `listener` with every batch appended from now on; returns the unsubscribe function. */
  subscribe(sessionId: string, listener: EventListener): () => void;
  /** A cheap real query, for /health. */
  isHealthy(): Promise<boolean>;
  close(): Promise<void>;
}
