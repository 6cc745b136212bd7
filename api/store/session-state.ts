/**
 * A session's summary (turn state, live flag, activity time) derived from its events, so every
 * store computes `GET /api/sessions/:id` the same way from the same log.
 */
import { NO_AGENT_ERRORS, type SessionEvent, type TimedEventBody } from '../../common/protocol.js';
import type { SessionRecord } from './types.js';

export function applyEvents(session: SessionRecord, events: SessionEvent[]): SessionRecord {
  const last = events.at(-1);
  if (!last) return session;
  const next = { ...session, lastActivityAt: last.timestamp };
  for (const event of events) {
    if (event.event_type === 'state_change') next.state = event.new_state;
    else if (event.event_type === 'session_started') next.live = true;
    else if (event.event_type === 'error' && isNoAgentError(event.error_code)) next.live = false;
    else if (event.event_type === 'session_ended') {
      next.live = false;
      next.state = 'idle';
      next.endedAt = event.timestamp;
    }
  }
  return next;
}

const isNoAgentError = (code: string) => (NO_AGENT_ERRORS as readonly string[]).includes(code);

/**
 * A session's log ends with its `session_ended`: what an agent job reports after that (its own
 * close, after a DELETE) is not part of the conversation. Stores apply this inside the append's
 * transaction, so concurrent appends cannot both end a session.
 */
export function acceptedEvents(session: SessionRecord, bodies: TimedEventBody[]): TimedEventBody[] {
  if (session.endedAt !== null) return [];
  const end = bodies.findIndex((body) => body.event_type === 'session_ended');
  return end === -1 ? bodies : bodies.slice(0, end + 1);
}
