/**
 * `POST /api/chat` without a live call, on the real app and store: the API answers from the
 * session's stored conversation through the fake OpenAI server, over JSON and over the multipart
 * form existing clients send, and turns LLM failures into the API's own errors. Streaming is in
 * chat-stream.test.ts, voice messages in chat-voice.test.ts, refused requests in
 * chat-input.test.ts.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_INSTRUCTIONS } from '../../common/assistant.js';
import type { ChatResponse, SessionEvent } from '../../common/protocol.js';
import { defaultReply, startOpenAIServer } from '../../test/providers/openai.js';
import { type FakeProviders, startFakeProviders } from '../../test/support/fake-providers.js';
import {
  buildTestApp,
  errorShape,
  ISO_TIME,
  openTestStore,
  postForm,
  postJson,
  readBody,
  sseSeqs,
  type TestApp,
} from '../../test/support/test-app.js';

const { store, remove: removeStore } = await openTestStore();
afterAll(removeStore);

let providers: FakeProviders;
beforeEach(async () => {
  providers = await startFakeProviders();
});
afterEach(() => providers.close());

const buildApp = (env: Record<string, string> = {}) =>
  buildTestApp({ store, env: { ...providers.env, ...env } }).app;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function chat(app: TestApp, body: object, headers: Record<string, string> = {}) {
  const response = await app.request('/api/chat', postJson(JSON.stringify(body), headers));
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/json');
  return (await response.json()) as ChatResponse;
}

/** The roles and texts of each LLM request the fake server received. */
const llmConversations = () =>
  providers.openai
    .chatRequests()
    .map((request) => request.messages.map((m) => [m.role, m.content]));

const reply = (message: string) => defaultReply([{ role: 'user', content: message }]);

describe('POST /api/chat, a text conversation without a call', () => {
  it('opens a session on the first message and answers each turn from the whole conversation', async () => {
    const app = buildApp();
    const first = await chat(app, { message: 'My name is Ada.' });
    expect(first).toStrictEqual({
      message: reply('My name is Ada.'),
      type: 'text',
      sessionId: expect.any(String),
      transcript: 'My name is Ada.',
      sessionToken: expect.any(String),
    });
    const { sessionId, sessionToken = '' } = first;

    const second = await chat(app, { message: 'I like tea.', sessionId }, bearer(sessionToken));
    const third = await chat(app, { message: 'What is my name?', sessionId }, bearer(sessionToken));
    expect(second).toStrictEqual({
      message: reply('I like tea.'),
      type: 'text',
      sessionId,
      transcript: 'I like tea.',
    });
    expect(third).toStrictEqual({
      message: reply('What is my name?'),
      type: 'text',
      sessionId,
      transcript: 'What is my name?',
    });

    const system = ['system', DEFAULT_INSTRUCTIONS];
    const turn1 = [
      ['user', 'My name is Ada.'],
      ['assistant', first.message],
    ];
    const turn2 = [
      ['user', 'I like tea.'],
      ['assistant', second.message],
    ];
    expect(llmConversations()).toStrictEqual([
      [system, ['user', 'My name is Ada.']],
      [system, ...turn1, ['user', 'I like tea.']],
      [system, ...turn1, ...turn2, ['user', 'What is my name?']],
    ]);
    expect(providers.openai.chatRequests().map((request) => request.model)).toStrictEqual([
      'gpt-4.1-mini',
      'gpt-4.1-mini',
      'gpt-4.1-mini',
    ]);

    const said = [...turn1, ...turn2, ['user', 'What is my name?'], ['assistant', third.message]];
    const transcript = await app.request(`/api/sessions/${sessionId}/transcript`, {
      headers: bearer(sessionToken),
    });
    expect(transcript.status).toBe(200);
    expect(await transcript.json()).toStrictEqual({
      sessionId,
      items: said.map(([role, text]) => ({
        item_id: expect.stringMatching(/^item_chat_/),
        role,
        text,
        source: 'text',
        timestamp: expect.stringMatching(ISO_TIME),
      })),
      nextAfter: 6,
      hasMore: false,
    });

    const feed = readBody(
      await app.request(`/api/sessions/${sessionId}/events`, { headers: bearer(sessionToken) }),
    );
    await feed.until((text) => sseSeqs(text).includes(6));
    await feed.cancel();
    const events = [...feed.text.matchAll(/^data: (.*)$/gm)].map(
      (match) => JSON.parse(match[1] ?? '') as SessionEvent,
    );
    expect(events).toStrictEqual(
      said.map(([role, text], index) => ({
        event_type: 'conversation_item',
        session_id: sessionId,
        seq: index + 1,
        timestamp: expect.stringMatching(ISO_TIME),
        role,
        text,
        source: 'text',
        item_id: expect.stringMatching(/^item_chat_/),
      })),
    );
    expect(new Set(events.map((event) => (event as { item_id: string }).item_id)).size).toBe(6);
  });

  it('sends the LLM only the last CHAT_HISTORY_MESSAGES earlier messages', async () => {
    const app = buildApp({ CHAT_HISTORY_MESSAGES: '2' });
    const first = await chat(app, { message: 'One.' });
    const auth = bearer(first.sessionToken ?? '');
    const second = await chat(app, { message: 'Two.', sessionId: first.sessionId }, auth);
    await chat(app, { message: 'Three.', sessionId: first.sessionId }, auth);

    const system = ['system', DEFAULT_INSTRUCTIONS];
    expect(llmConversations()).toStrictEqual([
      [system, ['user', 'One.']],
      [system, ['user', 'One.'], ['assistant', first.message], ['user', 'Two.']],
      [system, ['user', 'Two.'], ['assistant', second.message], ['user', 'Three.']],
    ]);
  });

  it('takes the multipart form existing clients send, and keeps the userId and username of a new session', async () => {
    const app = buildApp();
    const form = { message: 'Hello there.', type: 'text', userId: 'u-42', username: 'Ada' };
    const opened = await app.request('/api/chat', postForm(form));
    expect(opened.status).toBe(200);
    const first = (await opened.json()) as ChatResponse;
    expect(first).toStrictEqual({
      message: reply('Hello there.'),
      type: 'text',
      sessionId: expect.any(String),
      transcript: 'Hello there.',
      sessionToken: expect.any(String),
    });
    expect(await store.getSession(first.sessionId)).toMatchObject({
      userId: 'u-42',
      username: 'Ada',
      live: false,
      endedAt: null,
    });

    const next = await app.request(
      '/api/chat',
      postForm(
        { message: 'And again.', type: 'text', sessionId: first.sessionId, userId: 'u-42' },
        bearer(first.sessionToken ?? ''),
      ),
    );
    expect(next.status).toBe(200);
    expect(await next.json()).toStrictEqual({
      message: reply('And again.'),
      type: 'text',
      sessionId: first.sessionId,
      transcript: 'And again.',
    });
    expect(llmConversations().at(-1)).toStrictEqual([
      ['system', DEFAULT_INSTRUCTIONS],
      ['user', 'Hello there.'],
      ['assistant', first.message],
      ['user', 'And again.'],
    ]);
  });
});

describe('POST /api/chat when the LLM fails', () => {
  const ask = (app: TestApp) => app.request('/api/chat', postJson('{"message":"Hello?"}'));

  it('retries a rate limit and answers', async () => {
    providers.openai.injectFault('chat', { kind: 'status', status: 429 });
    const response = await ask(buildApp());
    expect(response.status).toBe(200);
    expect(((await response.json()) as ChatResponse).message).toBe(reply('Hello?'));
    expect(providers.openai.requests.map((request) => request.status)).toStrictEqual([429, 200]);
  });

  it('answers 503 llm_unavailable, without the provider text, when the LLM keeps failing', async () => {
    providers.openai.injectFault('chat', { kind: 'status', status: 500, times: Infinity });
    const response = await ask(buildApp());
    expect(response.status).toBe(503);
    const body = await response.text();
    expect(JSON.parse(body)).toStrictEqual(
      errorShape('llm_unavailable', 'The language model is unavailable; try again shortly.'),
    );
    expect(body).not.toMatch(/injected|fault/i);
    expect(providers.openai.requests.map((request) => request.status)).toStrictEqual([500, 500]);
  });

  it('answers 502 llm_request_rejected when the LLM refuses the request, without retrying', async () => {
    providers.openai.injectFault('chat', { kind: 'status', status: 401 });
    const response = await ask(buildApp());
    expect(response.status).toBe(502);
    expect(await response.json()).toStrictEqual(
      errorShape(
        'llm_request_rejected',
        'The language model rejected the request; check LLM_MODEL and the API key.',
      ),
    );
    expect(providers.openai.requests).toHaveLength(1);
  });

  it('answers from the fallback LLM when the first keeps failing', async () => {
    const backup = await startOpenAIServer();
    try {
      backup.setReply(() => 'The backup answers.');
      providers.openai.injectFault('chat', { kind: 'status', status: 500, times: Infinity });
      const app = buildApp({ LLM_FALLBACK_BASE_URL: backup.url, LLM_FALLBACK_MODEL: 'backup-1' });
      const response = await ask(app);
      expect(response.status).toBe(200);
      expect(((await response.json()) as ChatResponse).message).toBe('The backup answers.');
      expect(providers.openai.requests.map((request) => request.status)).toStrictEqual([500, 500]);
      expect(backup.chatRequests().map((request) => request.model)).toStrictEqual(['backup-1']);
    } finally {
      await backup.close();
    }
  });

  it('answers 503 when the fallback LLM fails too', async () => {
    const backup = await startOpenAIServer();
    try {
      providers.openai.injectFault('chat', { kind: 'status', status: 500, times: Infinity });
      backup.injectFault('chat', { kind: 'status', status: 503, times: Infinity });
      const response = await ask(buildApp({ LLM_FALLBACK_BASE_URL: backup.url }));
      expect(response.status).toBe(503);
      expect(await response.json()).toStrictEqual(
        errorShape('llm_unavailable', 'The language model is unavailable; try again shortly.'),
      );
      expect(backup.requests).toHaveLength(2);
    } finally {
      await backup.close();
    }
  });

  it('answers 503 provider_not_configured when no LLM is configured', async () => {
    const app = buildTestApp({ store }).app;
    const response = await ask(app);
    expect(response.status).toBe(503);
    expect(await response.json()).toStrictEqual(
      errorShape(
        'provider_not_configured',
        'No LLM configured: set OPENAI_API_KEY or LLM_BASE_URL.',
      ),
    );
  });
});
