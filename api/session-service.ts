/**
 * A session's life: opening it and starting its call (shared by the session routes and text chat,
 * which opens a session without a call), rejoining the call, and ending it. A call is a LiveKit
 * room with the agent dispatched into it. Routes validate, call these and render what they return.
 */
import { randomBytes } from 'node:crypto';
import type { JobMetadata } from '../common/protocol.js';
import type { HttpTool } from '../common/tools/declarations.js';
import type { AppDeps } from './deps.js';
import { apiError } from './errors.js';
import { loadSession } from './session-auth.js';
import { openSessionLimit, quotaError } from './session-quota.js';
import type { SessionRecord } from './store/types.js';

/** The agent job's ingest token outlives any call. */
const INGEST_TOKEN_TTL_S = 24 * 3600;

const randomId = (bytes: number) => randomBytes(bytes).toString('base64url');

/** Each call's room is named after its session. */
const ROOM_PREFIX = 'session-';

/** The session a room is the call of; undefined for a room that is not one of ours. */
export const sessionIdOfRoom = (roomName: string) =>
  roomName.startsWith(ROOM_PREFIX) ? roomName.slice(ROOM_PREFIX.length) : undefined;

export interface OpenedSession {
  session: SessionRecord;
  sessionToken: string;
  sessionTokenExpiresAt: Date;
}

/** What opening, joining and ending a session touch. */
export type SessionServiceDeps = Pick<
  AppDeps,
  'config' | 'store' | 'livekit' | 'sessionTokens' | 'ingestTokens' | 'logger'
>;

export async function openSession(
  deps: SessionServiceDeps,
  options: {
    instructions?: string;
    tools?: HttpTool[];
    userId?: string;
    username?: string;
    withCall: boolean;
    /** Who opens it (`c.var.client`); its open sessions are capped. */
    owner: string;
  },
): Promise<OpenedSession> {
  const sessionId = randomId(16);
  const session = await deps.store
    .createSession(
      {
        sessionId,
        roomName: `${ROOM_PREFIX}${sessionId}`,
        participantIdentity: `user-${randomId(9)}`,
        userId: options.userId ?? null,
        username: options.username ?? null,
        instructions: options.instructions ?? null,
        tools: options.tools?.length ? options.tools : null,
        createdAt: new Date().toISOString(),
        owner: options.owner,
      },
      openSessionLimit(deps.config),
    )
    .catch((error: unknown) => {
      throw quotaError(error);
    });
  if (options.withCall) await startCall(deps, session, { endSessionOnFailure: true });
  const token = await deps.sessionTokens.issue(sessionId, deps.config.SESSION_TOKEN_TTL_S);
  deps.logger.info({ sessionId, withCall: options.withCall }, 'session created');
  return { session, sessionToken: token.token, sessionTokenExpiresAt: token.expiresAt };
}

/** When an idle session expires: `lastActivityAt` plus the idle timeout; never once ended. */
export function sessionExpiresAt(
  deps: Pick<AppDeps, 'config'>,
  session: SessionRecord,
): string | null {
  if (session.endedAt) return null;
  const idleMs = deps.config.SESSION_IDLE_TIMEOUT_S * 1000;
  return new Date(Date.parse(session.lastActivityAt) + idleMs).toISOString();
}

/**
 * The session, for a call that continues its conversation: ended sessions are refused, and one
 * idle past its expiry is ended now (its room deleted, `session_ended` logged) and refused.
 */
export async function continueSession(
  deps: Pick<AppDeps, 'config' | 'store' | 'livekit'>,
  sessionId: string,
): Promise<SessionRecord> {
  const session = await loadSession(deps.store, sessionId);
  if (session.endedAt) throw apiError(409, 'session_ended', 'The session has ended.');
  const expiresAt = sessionExpiresAt(deps, session);
  if (expiresAt && Date.parse(expiresAt) <= Date.now()) {
    await deps.store.appendEvents(sessionId, [
      { event_type: 'session_ended', reason: 'idle_timeout', timestamp: new Date().toISOString() },
    ]);
    await deps.livekit.deleteRoom(session.roomName).catch(() => {});
    throw apiError(409, 'session_expired', 'The session expired after being idle.');
  }
  return session;
}

/** What an agent job of the session is dispatched with: its session and a fresh ingest token. */
export async function jobMetadata(
  { ingestTokens }: Pick<AppDeps, 'ingestTokens'>,
  session: SessionRecord,
): Promise<JobMetadata> {
  const ingest = await ingestTokens.issue(session.sessionId, INGEST_TOKEN_TTL_S);
  return {
    sessionId: session.sessionId,
    ingestToken: ingest.token,
    ...(session.instructions !== null && { instructions: session.instructions }),
    ...(session.tools?.length && { tools: session.tools }),
  };
}

/** Creates the session's room with the agent dispatched into it. */
export async function startCall(
  deps: Pick<AppDeps, 'livekit' | 'store' | 'logger' | 'ingestTokens'>,
  session: SessionRecord,
  { endSessionOnFailure }: { endSessionOnFailure: boolean },
): Promise<void> {
  const { livekit, store, logger } = deps;
  const metadata = await jobMetadata(deps, session);
  try {
    await livekit.createRoomWithAgent(session.roomName, metadata);
  } catch (error) {
    logger.error({ err: error, sessionId: session.sessionId }, 'could not create the LiveKit room');
    if (endSessionOnFailure) {
      const timestamp = new Date().toISOString();
      await store.appendEvents(session.sessionId, [
        { event_type: 'session_ended', reason: 'livekit_unavailable', timestamp },
      ]);
    }
    throw apiError(503, 'livekit_unavailable', 'The LiveKit server could not create the room.');
  }
}

export interface ParticipantToken {
  participantToken: string;
  /** When the token stops admitting its holder to the room (ISO 8601). */
  expiresAt: string;
}

/** A token that admits the session's caller, under the server-chosen identity, to its room. */
export async function issueParticipantToken(
  { config, livekit }: Pick<AppDeps, 'config' | 'livekit'>,
  session: SessionRecord,
): Promise<ParticipantToken> {
  const ttlSeconds = config.PARTICIPANT_TOKEN_TTL_S;
  return {
    participantToken: await livekit.createParticipantToken({
      roomName: session.roomName,
      identity: session.participantIdentity,
      ...(session.username !== null && { name: session.username }),
      ttlSeconds,
    }),
    expiresAt: new Date(Date.now() + ttlSeconds * 1000).toISOString(),
  };
}

/**
 * The session and a fresh participant token for its call. A session opened by text chat has no
 * call yet, and one whose room closed has none any more: joining starts one, with its history.
 */
export async function joinCall(
  deps: SessionServiceDeps,
  sessionId: string,
): Promise<{ session: SessionRecord } & ParticipantToken> {
  const session = await continueSession(deps, sessionId);
  if (!session.live && !(await deps.livekit.roomExists(session.roomName))) {
    await startCall(deps, session, { endSessionOnFailure: false });
  }
  return { session, ...(await issueParticipantToken(deps, session)) };
}

/** Ends the conversation (the agent leaves, the room goes) and returns the session as it is now. */
export async function endSession(
  { store, livekit, logger }: Pick<AppDeps, 'store' | 'livekit' | 'logger'>,
  sessionId: string,
): Promise<SessionRecord> {
  const session = await loadSession(store, sessionId);
  if (session.endedAt) return session;
  // The end is logged before the room goes: while LiveKit answers, a second DELETE, or the agent
  // reporting its own session_ended as the room closes on it, finds the session already ended
  // instead of logging a second end.
  const ended = await store.appendEvents(sessionId, [
    { event_type: 'session_ended', reason: 'ended_by_client', timestamp: new Date().toISOString() },
  ]);
  // Nothing appended: it ended since it was read, by a racing DELETE (which takes the room down)
  // or by the agent leaving it (and an empty room closes on its own).
  if (ended.length > 0) {
    // Deleting the room disconnects everyone in it, the agent included. The session has ended
    // either way: a room LiveKit cannot delete now empties and closes on its own.
    await livekit.deleteRoom(session.roomName).catch((error: unknown) => {
      logger.warn({ err: error, sessionId }, 'room already gone or unreachable');
    });
    logger.info({ sessionId }, 'session ended');
  }
  return loadSession(store, sessionId);
}
