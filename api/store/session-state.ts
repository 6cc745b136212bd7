/**
 * A session's summary (turn state, live flag, activity time) derived from its events, so every
 * store computes `GET /api/sessions/:id` the same way from the same log.
 */
import type { SessionEvent } from '../../common/protocol.js';
import type { SessionRecord } from './types.js';

export function applyEvents(session: SessionRecord, events: SessionEvent[]): SessionRecord {
  const last = events.at(-1);
  if (!last) return session;
  const next = { ...session, lastActivityAt: last.timestamp };
  for (const event of events) {
    if (event.event_type === 'state_change') next.state = event.new_state;
    else if (event.event_type === 'session_started') next.live = true;
    else if (event.event_type === 'session_ended') {
      next.live = false;
      next.endedAt = event.timestamp;
    }
  }
  return next;
}
