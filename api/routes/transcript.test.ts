/**
 * `GET /api/sessions/:id/transcript`: the conversation items of the session's event log, in order,
 * and nothing else from it. Who may read it is checked in api/session-auth.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type {
  CreateSessionResponse,
  TimedEventBody,
  TranscriptResponse,
} from '../../common/protocol.js';
import {
  buildTestApp,
  createSession,
  openTestStore,
  type TestApp,
  timeAt,
} from '../../test/support/test-app.js';

/** One store for the file: every test's sessions have their own random ids. */
const { store, remove: removeStore } = await openTestStore();
afterAll(removeStore);

async function getTranscript(app: TestApp, session: CreateSessionResponse) {
  const response = await app.request(`/api/sessions/${session.sessionId}/transcript`, {
    headers: { authorization: `Bearer ${session.sessionToken}` },
  });
  expect(response.status).toBe(200);
  return (await response.json()) as TranscriptResponse;
}

const said = (itemId: string, second = 0): TimedEventBody => ({
  event_type: 'conversation_item',
  role: 'user',
  text: `text of ${itemId}`,
  source: 'voice',
  item_id: itemId,
  timestamp: timeAt(second),
});

describe('GET /api/sessions/:id/transcript', () => {
  it('answers an empty transcript for a session with no conversation yet', async () => {
    const { app } = buildTestApp({ store });
    const session = await createSession(app);
    await store.appendEvents(session.sessionId, [
      { event_type: 'session_started', room_name: session.roomName, timestamp: timeAt(0) },
    ]);

    expect(await getTranscript(app, session)).toStrictEqual({
      sessionId: session.sessionId,
      items: [],
    });
  });

  it('lists the conversation items in order with their timestamps, and no other event', async () => {
    const { app } = buildTestApp({ store });
    const session = await createSession(app);
    await store.appendEvents(session.sessionId, [
      { event_type: 'session_started', room_name: session.roomName, timestamp: timeAt(0) },
      { event_type: 'user_speaking', timestamp: timeAt(1) },
      {
        event_type: 'transcription',
        text: 'Hi',
        is_final: false,
        is_interruption: false,
        timestamp: timeAt(2),
      },
      {
        event_type: 'transcription',
        text: 'Hi there.',
        is_final: true,
        is_interruption: false,
        timestamp: timeAt(3),
      },
      {
        event_type: 'conversation_item',
        role: 'user',
        text: 'Hi there.',
        source: 'voice',
        item_id: 'u1',
        timestamp: timeAt(4),
      },
      { event_type: 'agent_speaking', text: 'Hello!', turn_id: 't1', timestamp: timeAt(5) },
      {
        event_type: 'agent_finished',
        turn_id: 't1',
        interrupted: false,
        text: 'Hello!',
        timestamp: timeAt(6),
      },
      {
        event_type: 'conversation_item',
        role: 'assistant',
        text: 'Hello!',
        source: 'voice',
        item_id: 'a1',
        timestamp: timeAt(7),
      },
      {
        event_type: 'error',
        error_message: 'TTS timed out',
        error_code: 'tts_timeout',
        recoverable: true,
        timestamp: timeAt(8),
      },
      {
        event_type: 'conversation_item',
        role: 'user',
        text: 'Typed.',
        source: 'text',
        item_id: 'u2',
        timestamp: timeAt(9),
      },
      { event_type: 'session_ended', reason: 'ended_by_client', timestamp: timeAt(10) },
    ]);

    expect(await getTranscript(app, session)).toStrictEqual({
      sessionId: session.sessionId,
      items: [
        { item_id: 'u1', role: 'user', text: 'Hi there.', source: 'voice', timestamp: timeAt(4) },
        { item_id: 'a1', role: 'assistant', text: 'Hello!', source: 'voice', timestamp: timeAt(7) },
        { item_id: 'u2', role: 'user', text: 'Typed.', source: 'text', timestamp: timeAt(9) },
      ],
    });
  });

  it('answers only its own session items', async () => {
    const { app } = buildTestApp({ store });
    const mine = await createSession(app);
    const other = await createSession(app);
    await store.appendEvents(other.sessionId, [said('other-1')]);
    await store.appendEvents(mine.sessionId, [said('mine-1')]);

    expect((await getTranscript(app, mine)).items.map((item) => item.item_id)).toStrictEqual([
      'mine-1',
    ]);
  });

  // The log is read in pages of 1000 events: these put page ends on an item and on the log's end.
  it.each([
    ['exactly one page', 1000],
    ['a page and one more', 1001],
    ['several pages', 2345],
  ])('lists every item of a log of %s', async (_, count) => {
    const { app } = buildTestApp({ store });
    const session = await createSession(app);
    const itemIds = Array.from({ length: count }, (__, index) => `item-${index + 1}`);
    await store.appendEvents(
      session.sessionId,
      itemIds.map((itemId) => said(itemId)),
    );

    const { items } = await getTranscript(app, session);
    expect(items.map((item) => item.item_id)).toStrictEqual(itemIds);
  });

  it('lists the items of a log where other events fill the page ends', async () => {
    const { app } = buildTestApp({ store });
    const session = await createSession(app);
    const state: TimedEventBody = {
      event_type: 'state_change',
      new_state: 'idle',
      previous_state: 'agentSpeaking',
      timestamp: timeAt(0),
    };
    // Items at seq 999 and 1002: the first page ends on a non-item, the second starts on one.
    await store.appendEvents(session.sessionId, [
      ...Array.from({ length: 998 }, () => state),
      said('before-the-page-end'),
      state,
      state,
      said('after-the-page-end'),
      ...Array.from({ length: 1000 }, () => state),
    ]);

    const { items } = await getTranscript(app, session);
    expect(items.map((item) => item.item_id)).toStrictEqual([
      'before-the-page-end',
      'after-the-page-end',
    ]);
  });
});
