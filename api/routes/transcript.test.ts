/**
 * `GET /api/sessions/:id/transcript`: the conversation items of the session's event log, in order,
 * and nothing else from it, in pages (`?after=`, `?limit=`). Who may read it is checked in
 * api/session-auth.test.ts.
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
  errorShape,
  openTestStore,
  type TestApp,
  timeAt,
} from '../../test/support/test-app.js';

/** One store for the file: every test's sessions have their own random ids. */
const { store, remove: removeStore } = await openTestStore();
afterAll(removeStore);

const requestTranscript = (app: TestApp, session: CreateSessionResponse, query = '') =>
  app.request(`/api/sessions/${session.sessionId}/transcript${query}`, {
    headers: { authorization: `Bearer ${session.sessionToken}` },
  });

async function getTranscript(app: TestApp, session: CreateSessionResponse, query = '') {
  const response = await requestTranscript(app, session, query);
  expect(response.status).toBe(200);
  return (await response.json()) as TranscriptResponse;
}

/** Every page from the start, following `nextAfter` while `hasMore`. */
async function getAllPages(app: TestApp, session: CreateSessionResponse, limit?: number) {
  const pages: TranscriptResponse[] = [];
  let after = 0;
  do {
    const query = `?after=${after}${limit === undefined ? '' : `&limit=${limit}`}`;
    pages.push(await getTranscript(app, session, query));
    after = pages.at(-1)?.nextAfter ?? 0;
  } while (pages.at(-1)?.hasMore);
  return pages;
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
      nextAfter: 0,
      hasMore: false,
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
      {
        event_type: 'agent_speaking',
        text: 'Hello!',
        delta: 'Hello!',
        turn_id: 't1',
        timestamp: timeAt(5),
      },
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
      // u2 is event 10 of the log.
      nextAfter: 10,
      hasMore: false,
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

  it.each([
    ['one page of the default size', 200, undefined, [200]],
    ['the default size and one more', 201, undefined, [200, 1]],
    ['exactly one page of the largest size', 1000, 1000, [1000]],
    ['several pages of the largest size', 2345, 1000, [1000, 1000, 345]],
    ['pages of 1', 3, 1, [1, 1, 1]],
  ])('pages through a transcript of %s', async (_, count, limit, pageSizes) => {
    const { app } = buildTestApp({ store });
    const session = await createSession(app);
    const itemIds = Array.from({ length: count }, (__, index) => `item-${index + 1}`);
    await store.appendEvents(
      session.sessionId,
      itemIds.map((itemId) => said(itemId)),
    );

    const pages = await getAllPages(app, session, limit);
    expect(pages.map((page) => page.items.length)).toStrictEqual(pageSizes);
    expect(pages.flatMap((page) => page.items.map((item) => item.item_id))).toStrictEqual(itemIds);
    // The items are the whole log here: each page's cursor is the seq of its last item.
    expect(pages.map((page) => page.nextAfter)).toStrictEqual(
      pageSizes.map((_size, index) => pageSizes.slice(0, index + 1).reduce((a, b) => a + b)),
    );
  });

  it('counts the cursor in event seqs, so other events between items move it on', async () => {
    const { app } = buildTestApp({ store });
    const session = await createSession(app);
    const state: TimedEventBody = {
      event_type: 'state_change',
      new_state: 'idle',
      previous_state: 'agentSpeaking',
      timestamp: timeAt(0),
    };
    // Items at seq 3, 6 and 9.
    await store.appendEvents(session.sessionId, [
      ...[1, 2, 3].flatMap((n) => [state, state, said(`item-${n}`)]),
      state,
    ]);

    const first = await getTranscript(app, session, '?limit=2');
    expect(first).toMatchObject({ nextAfter: 6, hasMore: true });
    expect(first.items.map((item) => item.item_id)).toStrictEqual(['item-1', 'item-2']);
    const second = await getTranscript(app, session, '?after=6&limit=2');
    expect(second).toMatchObject({ nextAfter: 9, hasMore: false });
    expect(second.items.map((item) => item.item_id)).toStrictEqual(['item-3']);
    expect(await getTranscript(app, session, '?after=4')).toMatchObject({ nextAfter: 9 });
  });

  it('answers an empty page at the end that keeps the cursor, and items added later after it', async () => {
    const { app } = buildTestApp({ store });
    const session = await createSession(app);
    await store.appendEvents(session.sessionId, [said('first')]);
    const { nextAfter } = await getTranscript(app, session);

    expect(await getTranscript(app, session, `?after=${nextAfter}`)).toStrictEqual({
      sessionId: session.sessionId,
      items: [],
      nextAfter,
      hasMore: false,
    });
    await store.appendEvents(session.sessionId, [said('later')]);
    const polled = await getTranscript(app, session, `?after=${nextAfter}`);
    expect(polled.items.map((item) => item.item_id)).toStrictEqual(['later']);
  });

  it.each([
    ['?after=-1', 'after: must be a whole number'],
    ['?after=abc', 'after: must be a whole number'],
    ['?after=1e3', 'after: must be a whole number'],
    ['?after=', 'after: must be a whole number'],
    ['?limit=0', 'limit: must be a whole number from 1 to 1000'],
    ['?limit=1001', 'limit: must be a whole number from 1 to 1000'],
    ['?limit=2.5', 'limit: must be a whole number from 1 to 1000'],
  ])('refuses %s with 400 invalid_request', async (query, message) => {
    const { app } = buildTestApp({ store });
    const session = await createSession(app);

    const response = await requestTranscript(app, session, query);
    expect(response.status).toBe(400);
    expect(await response.json()).toStrictEqual(errorShape('invalid_request', message));
  });

  it('is documented with its page parameters and cursor fields', async () => {
    const { app } = buildTestApp({ store });
    const document = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<string, { get: { parameters: { name: string; in: string }[] } }>;
      components?: unknown;
    };
    const route = document.paths['/api/sessions/{id}/transcript']?.get;
    expect(route?.parameters.filter((p) => p.in === 'query').map((p) => p.name)).toStrictEqual([
      'after',
      'limit',
    ]);
    expect(JSON.stringify(route)).toContain('nextAfter');
    expect(JSON.stringify(route)).toContain('hasMore');
  });
});
