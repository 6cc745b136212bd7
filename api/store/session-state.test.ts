import { describe, expect, it } from 'vitest';
import type { SessionEvent, SessionEventBody } from '../../common/protocol.js';
import { acceptedEvents, applyEvents } from './session-state.js';
import type { SessionRecord } from './types.js';

const session: SessionRecord = {
  sessionId: 's1',
  roomName: 'session-s1',
  participantIdentity: 'user-1',
  userId: null,
  username: null,
  instructions: null,
  tools: null,
  createdAt: '2025-01-01T00:00:00.000Z',
  lastActivityAt: '2025-01-01T00:00:00.000Z',
  endedAt: null,
  state: 'idle',
  live: false,
};

/** When the store appends the events in these tests: an hour after their timestamps. */
const NOW = '2025-01-01T01:00:00.000Z';

/** Events one second apart, numbered from 1. */
const log = (...bodies: SessionEventBody[]): SessionEvent[] =>
  bodies.map((body, index) => ({
    ...body,
    session_id: 's1',
    seq: index + 1,
    timestamp: new Date(Date.UTC(2025, 0, 1, 0, 0, index + 1)).toISOString(),
  }));

describe('applyEvents', () => {
  it('returns the session unchanged for no events', () => {
    expect(applyEvents(session, [], NOW)).toBe(session);
  });

  it('goes live on session_started and takes the state of the last state_change', () => {
    const events = log(
      { event_type: 'session_started', room_name: 'session-s1' },
      { event_type: 'state_change', new_state: 'userSpeaking', previous_state: null },
      { event_type: 'state_change', new_state: 'agentSpeaking', previous_state: 'userSpeaking' },
      { event_type: 'transcription', text: 'hi', is_final: true, is_interruption: false },
    );

    expect(applyEvents(session, events, NOW)).toStrictEqual({
      ...session,
      live: true,
      state: 'agentSpeaking',
      lastActivityAt: NOW,
    });
  });

  it('ends on session_ended: not live, ended when appended', () => {
    const events = log(
      { event_type: 'session_started', room_name: 'session-s1' },
      { event_type: 'session_ended', reason: 'user_left' },
    );

    expect(applyEvents(session, events, NOW)).toMatchObject({
      live: false,
      endedAt: NOW,
      lastActivityAt: NOW,
    });
  });

  it('is not live once the API reports the agent gone, and live again when another starts', () => {
    const started = { event_type: 'session_started', room_name: 'session-s1' } as const;
    const error = (error_code: string) =>
      ({ event_type: 'error', error_code, error_message: 'm', recoverable: true }) as const;

    expect(applyEvents(session, log(started, error('agent_lost')), NOW).live).toBe(false);
    expect(applyEvents(session, log(started, error('agent_lost'), started), NOW).live).toBe(true);
    // A provider's error leaves the agent in the call.
    expect(applyEvents(session, log(started, error('llm_unavailable')), NOW).live).toBe(true);
  });

  it("stamps activity with the store's clock, whatever the events' timestamps, never back", () => {
    const from = (timestamp: string): SessionEvent[] => [
      { event_type: 'user_speaking', session_id: 's1', seq: 1, timestamp },
    ];
    const active = (timestamp: string, now: string) =>
      applyEvents(session, from(timestamp), now).lastActivityAt;

    expect(active('2020-01-01T00:00:00.000Z', NOW)).toBe(NOW);
    expect(active('2099-01-01T00:00:00.000Z', NOW)).toBe(NOW);
    // A clock stepped back leaves the activity where it was.
    expect(active(NOW, '2024-12-31T00:00:00.000Z')).toBe(session.lastActivityAt);
  });

  it('does not change the session it is given', () => {
    const before = structuredClone(session);
    applyEvents(session, log({ event_type: 'session_started', room_name: 'session-s1' }), NOW);
    expect(session).toStrictEqual(before);
  });
});

describe('acceptedEvents', () => {
  const at = '2025-01-01T00:00:09.000Z';
  const speaking = { event_type: 'user_speaking', timestamp: at } as const;
  const ended = { event_type: 'session_ended', reason: 'bye', timestamp: at } as const;

  it('keeps a batch up to and including its session_ended', () => {
    expect(acceptedEvents(session, [speaking, ended, speaking, ended])).toEqual([speaking, ended]);
    expect(acceptedEvents(session, [speaking, speaking])).toEqual([speaking, speaking]);
  });

  it('accepts nothing once the session has ended', () => {
    expect(acceptedEvents({ ...session, endedAt: at }, [speaking])).toEqual([]);
  });

  it('leaves an ended session idle, whatever it was doing', () => {
    const ending = log(
      { event_type: 'state_change', new_state: 'agentSpeaking', previous_state: 'idle' },
      { event_type: 'session_ended', reason: 'bye' },
    );
    expect(applyEvents(session, ending, NOW)).toMatchObject({ state: 'idle', live: false });
  });
});
