/**
 * Keeps an agent in every live call. Self-hosted LiveKit never replaces an agent that is gone:
 * when a session's caller is in its room without one (the job process died, or the dispatch found
 * no worker: LiveKit restarting, workers draining or full), the session's log gets a recoverable
 * `error` and another agent is dispatched, which starts from the conversation so far. A session
 * that has ended (DELETE, the caller hung up, idle expiry) is left alone, and so is a call whose
 * agent is still starting: two agents must never share a call. Driven by LiveKit's webhooks
 * (routes/webhook.ts). The watches live in a watch book (call-watches.ts): this process's memory
 * for one API, Redis for several, where another replica carries on the watches of one that died.
 */
import type { NoAgentError } from '../common/protocol.js';
import { memoryWatchBook, type Watch, type WatchBook } from './call-watches.js';
import type { AppDeps } from './deps.js';
import type { AgentJob } from './livekit.js';
import { jobMetadata, sessionIdOfRoom } from './session-service.js';
import type { SessionRecord } from './store/types.js';

/** Agents sent to one call in a row that may fail to arrive before it is given up. */
const MAX_DISPATCHES = 3;

/**
 * How long after an agent left its call is looked at: an agent that leaves on purpose (the caller
 * hung up, its worker shut it down) reports its `session_ended` as it goes, and that report may
 * still be on its way (the job flushes its events for up to 3 s).
 */
const AGENT_LEFT_GRACE_MS = 3000;

/** Events read at a time when looking through a session's log. */
const EVENT_PAGE = 500;

/** Why the API sends an agent; `agent_disconnected` is the agent's own report. */
export type Failure = Exclude<NoAgentError, 'agent_disconnected'>;

const FAILURES: Record<Failure, { message: string; recoverable: boolean }> = {
  agent_lost: {
    message: 'The agent left the call unexpectedly; another one is joining.',
    recoverable: true,
  },
  agent_missing: {
    message: 'No agent joined the call in time; another one is on its way.',
    recoverable: true,
  },
  agent_unavailable: {
    message: 'No agent could join the call. End the call and try again later.',
    recoverable: false,
  },
};

export interface CallRecovery {
  /** An agent left the room: replace it if the caller is still there and the session open. */
  agentLeft(roomName: string, identity: string): void;
  /** The caller joined the room: an agent must be in it within the join timeout. */
  callerJoined(roomName: string): void;
  /** Stops looking at watches (the API is shutting down); a shared book keeps them for others. */
  close(): Promise<void>;
}

export interface CallRecoveryOptions {
  agentJoinTimeoutMs: number;
  /** Where the watches live; this process's memory unless given. */
  book?: WatchBook;
  /** How long after an agent left its call is looked at (AGENT_LEFT_GRACE_MS; tests shorten it). */
  agentLeftGraceMs?: number;
}

export function createCallRecovery(
  deps: Pick<AppDeps, 'store' | 'livekit' | 'ingestTokens' | 'logger'>,
  {
    agentJoinTimeoutMs,
    book = memoryWatchBook(),
    agentLeftGraceMs = AGENT_LEFT_GRACE_MS,
  }: CallRecoveryOptions,
): CallRecovery {
  const { store, livekit, logger } = deps;

  /** The session whose caller is in `roomName` with no agent, if that is the case. */
  const abandonedSession = async (roomName: string) => {
    const sessionId = sessionIdOfRoom(roomName);
    const session = sessionId === undefined ? null : await store.getSession(sessionId);
    if (!session || session.endedAt || session.roomName !== roomName) return undefined;
    const participants = await livekit.listParticipants(roomName);
    const callerThere = participants?.some((p) => p.identity === session.participantIdentity);
    if (!callerThere || participants?.some((p) => p.agent)) return undefined;
    return session;
  };

  /**
   * A job a worker took that has not joined yet, and not so long ago that it must have died
   * (LiveKit does not tell): a slow start on a busy machine is given two join timeouts.
   */
  const agentStarting = (jobs: AgentJob[], watch: Watch) =>
    jobs.some(
      (job) =>
        !watch.departed.includes(job.identity) &&
        Date.now() - job.assignedAt < 2 * agentJoinTimeoutMs,
    );

  /** The session's log gets the error, and the turn goes back to idle if the agent had it. */
  const report = (session: SessionRecord, failure: Failure) => {
    const { message, recoverable } = FAILURES[failure];
    const timestamp = new Date().toISOString();
    return store.appendEvents(session.sessionId, [
      { event_type: 'error', error_code: failure, error_message: message, recoverable, timestamp },
      ...(session.state === 'idle'
        ? []
        : [
            {
              event_type: 'state_change' as const,
              new_state: 'idle' as const,
              previous_state: session.state,
              timestamp,
            },
          ]),
    ]);
  };

  /**
   * A job of the session reported that it cannot run (an unrecoverable error of its own, such as
   * a provider not configured) and no agent has started since: another would fail the same way.
   */
  const jobRefused = async (sessionId: string) => {
    let refused = false;
    for (let afterSeq = 0; ; ) {
      const events = await store.readEvents(sessionId, afterSeq, EVENT_PAGE);
      for (const event of events) {
        if (event.event_type === 'session_started') refused = false;
        if (event.event_type === 'error' && !event.recoverable) {
          refused ||= !(event.error_code in FAILURES);
        }
      }
      const last = events.at(-1);
      if (!last || events.length < EVENT_PAGE) return refused;
      afterSeq = last.seq;
    }
  };

  /** Whether an agent of the session started at or after `sinceMs`. */
  const agentStartedSince = async (sessionId: string, sinceMs: number) => {
    for (let afterSeq = 0; ; ) {
      const events = await store.readEvents(sessionId, afterSeq, EVENT_PAGE);
      const started = events.some(
        (event) => event.event_type === 'session_started' && Date.parse(event.timestamp) >= sinceMs,
      );
      const last = events.at(-1);
      if (started) return true;
      if (!last || events.length < EVENT_PAGE) return false;
      afterSeq = last.seq;
    }
  };

  /** One look at the call, sending an agent when it needs one; true once the watch is over. */
  const recover = async (roomName: string, watch: Watch) => {
    const session = await abandonedSession(roomName);
    if (!session) return true;
    if (agentStarting(await livekit.agentJobs(roomName), watch)) return false;
    const { sessionId } = session;
    // A lost agent was running; one that never came may have refused.
    if (watch.failure === 'agent_missing' && (await jobRefused(sessionId))) return true;
    // The agent did come (it usually joins before the caller) and has gone since: LiveKit's
    // participant_left for it starts the agent_lost watch, which replaces it.
    if (
      watch.failure === 'agent_missing' &&
      watch.dispatches === 0 &&
      (await agentStartedSince(sessionId, watch.armedAt - agentJoinTimeoutMs))
    ) {
      return true;
    }
    if (watch.dispatches >= MAX_DISPATCHES) {
      logger.error({ sessionId }, 'no agent joined the call; giving up');
      await report(session, 'agent_unavailable');
      return true;
    }
    if (watch.dispatches === 0) await report(session, watch.failure);
    await livekit.dispatchAgent(roomName, await jobMetadata(deps, session));
    watch.dispatches += 1;
    logger.warn(
      { sessionId, failure: watch.failure, attempt: watch.dispatches },
      'the call had no agent; dispatched another',
    );
    return false;
  };

  /** One look at a due watch: when to look again, or undefined once it is over. */
  const look = async (roomName: string, watch: Watch) => {
    let over: boolean;
    try {
      over = await recover(roomName, watch);
    } catch (err) {
      watch.failures += 1;
      logger.warn(
        { err, roomName, sessionId: sessionIdOfRoom(roomName) },
        'could not check or replace the agent of a call',
      );
      over = watch.failures > MAX_DISPATCHES;
    }
    return over ? undefined : agentJoinTimeoutMs;
  };
  book.start(look, (err, roomName) =>
    logger.warn({ err, roomName }, 'could not read or keep the watch of a call'),
  );

  const fresh = (failure: Failure): Watch => ({
    failure,
    departed: [],
    dispatches: 0,
    failures: 0,
    armedAt: Date.now(),
  });

  const arm = (roomName: string, change: Parameters<WatchBook['arm']>[1]) => {
    book.arm(roomName, change).catch((err) => {
      logger.warn({ err, roomName }, 'could not start the watch of a call');
    });
  };

  return {
    agentLeft(roomName, identity) {
      arm(roomName, (existing) => {
        const watch = existing ?? fresh('agent_lost');
        // A caller's watch for an agent that never came becomes one for the agent that left.
        if (watch.dispatches === 0) watch.failure = 'agent_lost';
        if (!watch.departed.includes(identity)) watch.departed.push(identity);
        return { watch, dueInMs: agentLeftGraceMs };
      });
    },
    callerJoined(roomName) {
      // A call already watched keeps its own schedule.
      arm(roomName, (existing) =>
        existing ? undefined : { watch: fresh('agent_missing'), dueInMs: agentJoinTimeoutMs },
      );
    },
    close: () => book.close(),
  };
}
