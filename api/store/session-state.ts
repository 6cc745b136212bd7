/**
 * A session's summary (turn state, live flag, activity time) derived from its events, so every
 * store computes `GET /api/sessions/:id` the same way from the same log.
 */
import { NO_AGENT_ERRORS, type SessionEvent, type TimedEventBody } from '../../common/protocol.js';
import type { SessionRecord } from './types.js';

/**
 * The session after `events`, appended at `now` (ISO 8601, the store's clock). Activity and the
 * end are stamped with `now`, not with the events' timestamps: those come from the agent's clock,
 * and idle expiry, the cap on open sessions and retention must not move with it. Activity never
 * goes back, should the store's clock.
 */
export function applyEvents(
  session: SessionRecord,
  events: SessionEvent[],
  now: string,
): SessionRecord {
  if (events.length === 0) return session;
  const lastActivityAt = now > session.lastActivityAt ? now : session.lastActivityAt;
  const next = { ...session, lastActivityAt };
  for (const event of events) {
    if (event.event_type === 'state_change') next.state = event.new_state;
    else if (event.event_type === 'session_started') next.live = true;
    else if (event.event_type === 'error' && isNoAgentError(event.error_code)) next.live = false;
    else if (event.event_type === 'session_ended') {
      next.live = false;
      next.state = 'idle';
      next.endedAt = lastActivityAt;
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
