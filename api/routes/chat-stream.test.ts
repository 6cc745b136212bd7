/**
 * `POST /api/chat` streaming its reply as SSE (`stream: true`, or `Accept: text/event-stream`):
 * `delta` frames as the LLM generates, one `done` frame with the whole answer, an `error` frame
 * when the LLM fails, and the LLM request cancelled when the client goes away.
 */

import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ChatResponse } from '../../common/protocol.js';
import { parseSse } from '../../common/sse.js';
import { type FakeProviders, startFakeProviders } from '../../test/support/fake-providers.js';
import {
  buildTestApp,
  createSession,
  errorShape,
  openTestStore,
  postForm,
  postJson,
  readBody,
  type TestApp,
} from '../../test/support/test-app.js';

const { store, remove: removeStore } = await openTestStore();
afterAll(removeStore);

let providers: FakeProviders;
let app: TestApp;
beforeEach(async () => {
  providers = await startFakeProviders();
  app = buildTestApp({ store, env: providers.env }).app;
});
afterEach(() => providers.close());

const REPLY = 'Sure, here is a short answer for you.';
const REPLY_DELTAS = ['Sure,', ' here', ' is', ' a', ' short', ' answer', ' for', ' you.'];
const deltaFrames = (deltas: string[]) =>
  deltas.map((text) => `event: delta\ndata: ${JSON.stringify({ text })}\n\n`).join('');

const streamChat = (
  body: object,
  init: { headers?: Record<string, string>; signal?: AbortSignal } = {},
) =>
  app.request('/api/chat', {
    ...postJson(JSON.stringify(body), init.headers),
    ...(init.signal && { signal: init.signal }),
  });

const conversationItems = async (sessionId: string) =>
  (await store.readEvents(sessionId, 0, 100)).flatMap((event) =>
    event.event_type === 'conversation_item' ? [[event.role, event.text]] : [],
  );

function expectSse(response: Response) {
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/event-stream');
  expect(response.headers.get('cache-control')).toBe('no-cache');
}

describe('POST /api/chat, streaming', () => {
  it('streams delta frames, then one done frame with the whole answer (stream: true)', async () => {
    providers.openai.setReply(() => REPLY);
    const response = await streamChat({ message: 'Tell me something.', stream: true });
    expectSse(response);

    const text = await readBody(response).toEnd();
    const frames = parseSse(text);
    const done = JSON.parse(frames.at(-1)?.data ?? '') as ChatResponse;
    expect(done).toStrictEqual({
      message: REPLY,
      type: 'text',
      sessionId: expect.any(String),
      transcript: 'Tell me something.',
      sessionToken: expect.any(String),
    });
    expect(text).toBe(`${deltaFrames(REPLY_DELTAS)}event: done\ndata: ${JSON.stringify(done)}\n\n`);
    expect(await conversationItems(done.sessionId)).toStrictEqual([
      ['user', 'Tell me something.'],
      ['assistant', REPLY],
    ]);
  });

  it('streams for Accept: text/event-stream, and for the form field stream=true', async () => {
    providers.openai.setReply(() => 'Two words.');
    const byHeader = await streamChat(
      { message: 'Hi.' },
      { headers: { accept: 'text/event-stream' } },
    );
    expectSse(byHeader);
    const byForm = await app.request('/api/chat', postForm({ message: 'Hi.', stream: 'true' }));
    expectSse(byForm);

    for (const response of [byHeader, byForm]) {
      const frames = parseSse(await readBody(response).toEnd());
      expect(frames.map((frame) => frame.event)).toStrictEqual(['delta', 'delta', 'done']);
      expect(frames.slice(0, 2).map((frame) => frame.data)).toStrictEqual([
        '{"text":"Two"}',
        '{"text":" words."}',
      ]);
      expect(JSON.parse(frames[2]?.data ?? '')).toMatchObject({ message: 'Two words.' });
    }
  });

  it('sends the first delta while the LLM is still generating', async () => {
    providers.openai.setReply(() => REPLY);
    providers.openai.setLatency({ llmFirstTokenMs: 0, llmTokenIntervalMs: 150 });
    const body = readBody(await streamChat({ message: 'Go.', stream: true }));

    await body.until((text) => text.includes('\n\n'));
    const llmRequest = providers.openai.requests[0];
    expect(body.text).toBe(deltaFrames(['Sure,']));
    expect(llmRequest).toMatchObject({ route: 'chat', aborted: false });
    expect(llmRequest?.completedAt).toBeUndefined();

    await body.toEnd();
    // The SDK ends the reply at the stream's [DONE], which can be before the server's response
    // has finished on its side.
    await vi.waitFor(() => expect(llmRequest?.completedAt).toBeTypeOf('number'));
  });

  it('cancels the LLM request when the client goes away, and stores no answer', async () => {
    providers.openai.setReply(() => REPLY);
    providers.openai.setLatency({ llmFirstTokenMs: 0, llmTokenIntervalMs: 150 });
    const { sessionId, sessionToken } = await createSession(app, { voice: false });
    const client = new AbortController();
    const body = readBody(
      await streamChat(
        { message: 'Go.', sessionId, stream: true },
        { headers: { authorization: `Bearer ${sessionToken}` }, signal: client.signal },
      ),
    );
    await body.until((text) => text.includes('\n\n'));

    client.abort();
    // Left alone, the LLM would go on for another second; `aborted` means it was cut short.
    await vi.waitFor(() => expect(providers.openai.requests[0]?.aborted).toBe(true), {
      timeout: 1000,
    });
    expect(await body.toEnd()).toBe(deltaFrames(['Sure,']));
    expect(await conversationItems(sessionId)).toStrictEqual([['user', 'Go.']]);
  });

  it('ends with an error frame when the LLM keeps failing', async () => {
    providers.openai.injectFault('chat', { kind: 'status', status: 500, times: Infinity });
    const response = await streamChat({ message: 'Hi.', stream: true });
    expectSse(response);

    const text = await readBody(response).toEnd();
    const frames = parseSse(text);
    expect(frames.map((frame) => frame.event)).toStrictEqual(['error']);
    expect(JSON.parse(frames[0]?.data ?? '')).toStrictEqual(
      errorShape('llm_unavailable', 'The language model is unavailable; try again shortly.'),
    );
    expect(text).not.toMatch(/injected|fault/i);
  });

  it('ends with an error frame after the deltas when the LLM stream breaks off', async () => {
    providers.openai.setReply(() => REPLY);
    providers.openai.setLatency({ llmTokenIntervalMs: 50 });
    providers.openai.injectFault('chat', { kind: 'drop', afterMs: 20 });
    const { sessionId, sessionToken } = await createSession(app, { voice: false });
    const response = await streamChat(
      { message: 'Hi.', sessionId, stream: true },
      { headers: { authorization: `Bearer ${sessionToken}` } },
    );
    const frames = parseSse(await readBody(response).toEnd());

    expect(frames.map((frame) => frame.event)).toStrictEqual(['delta', 'error']);
    expect(frames[0]?.data).toBe('{"text":"Sure,"}');
    expect(JSON.parse(frames[1]?.data ?? '')).toStrictEqual(
      errorShape('llm_unavailable', 'The language model is unavailable; try again shortly.'),
    );
    expect(await conversationItems(sessionId)).toStrictEqual([['user', 'Hi.']]);
  });
});
