/**
 * What `POST /api/chat` refuses, each with the API's JSON error shape and a stable code, before
 * anything reaches the LLM: bad bodies, bad audio, the wrong credentials, an ended session.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatResponse } from '../../common/protocol.js';
import { type FakeProviders, startFakeProviders } from '../../test/support/fake-providers.js';
import {
  buildTestApp,
  createSession,
  errorShape,
  openTestStore,
  postForm,
  postJson,
  sessionTokens,
  type TestApp,
} from '../../test/support/test-app.js';
import type { SessionStore } from '../store/types.js';

const { store, remove: removeStore } = await openTestStore();
afterAll(removeStore);

let providers: FakeProviders;
let app: TestApp;
beforeEach(async () => {
  providers = await startFakeProviders();
  app = buildApp();
});
afterEach(() => providers.close());

/** Sessions the app opened since it was built. */
let sessionsOpened: number;
function buildApp(env: Record<string, string> = {}) {
  sessionsOpened = 0;
  const counting: SessionStore = {
    ...store,
    createSession(session) {
      sessionsOpened += 1;
      return store.createSession(session);
    },
  };
  return buildTestApp({ store: counting, env: { ...providers.env, ...env } }).app;
}

const NEEDS_AUDIO = 'audio: a voice message needs an audio file';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const chatJson = (body: string, headers: Record<string, string> = {}) =>
  app.request('/api/chat', postJson(body, headers));

async function expectRefused(response: Response, status: number, code: string, message: unknown) {
  expect(response.status).toBe(status);
  expect(await response.json()).toStrictEqual(errorShape(code, message));
  // Nothing was spent on a refused request.
  expect(providers.openai.requests).toStrictEqual([]);
  expect(providers.deepgram.prerecordedRequests).toStrictEqual([]);
}

describe('POST /api/chat refuses a bad body', () => {
  it.each([
    ['an empty message', { message: '' }, 'message: must not be empty'],
    ['a message of whitespace', { message: ' \n\t ' }, 'message: must not be empty'],
    [
      'a message over 4000 characters',
      { message: 'a'.repeat(4001) },
      'message: must be at most 4000 characters',
    ],
    ['no message', {}, 'message: Invalid input: expected string, received undefined'],
    ['an unknown field', { message: 'Hi.', mood: 'happy' }, 'Unrecognized key: "mood"'],
    [
      'a stream flag that is not a boolean',
      { message: 'Hi.', stream: 'yes' },
      'stream: Invalid input: expected boolean, received string',
    ],
  ])('400 invalid_request for %s (JSON)', async (_, body, message) => {
    await expectRefused(await chatJson(JSON.stringify(body)), 400, 'invalid_request', message);
  });

  it('takes a message of exactly 4000 characters', async () => {
    const response = await chatJson(JSON.stringify({ message: 'a'.repeat(4000) }));
    expect(response.status).toBe(200);
  });

  it.each([
    [
      'a wrong type',
      { type: 'video', message: 'Hi.' },
      "type: Invalid discriminator value. Expected 'text' | 'voice'",
    ],
    ['an empty message', { type: 'text', message: '' }, 'message: must not be empty'],
    ['type=voice without audio', { type: 'voice' }, NEEDS_AUDIO],
    [
      'type=voice with text in the audio field',
      { type: 'voice', audio: 'not a file' },
      NEEDS_AUDIO,
    ],
  ])('400 invalid_request for %s (form)', async (_, fields, message) => {
    await expectRefused(
      await app.request('/api/chat', postForm(fields)),
      400,
      'invalid_request',
      message,
    );
  });

  it('400 invalid_request for malformed JSON', async () => {
    await expectRefused(
      await chatJson('{"message": "Hi.",'),
      400,
      'invalid_request',
      'The body is not valid JSON.',
    );
  });

  it.each([
    ['text/plain', { 'content-type': 'text/plain' }],
    ['no content type', {}],
  ])('415 unsupported_media_type for %s', async (_, headers) => {
    const response = await app.request('/api/chat', {
      method: 'POST',
      headers,
      body: 'message=Hi.',
    });
    await expectRefused(response, 415, 'unsupported_media_type', 'Send JSON or a multipart form.');
  });

  it('413 request_too_large for a body over the limit, before reading it', async () => {
    // The smallest limit: 1 KiB of audio plus the form's overhead (64 KiB).
    app = buildApp({ VOICE_MESSAGE_MAX_BYTES: '1024' });
    const body = JSON.stringify({ message: 'a'.repeat(70 * 1024) });
    await expectRefused(
      await chatJson(body),
      413,
      'request_too_large',
      'The request body is too large.',
    );
    await expectRefused(
      await app.request('/api/chat', postForm({ type: 'voice', audio: new File([body], 'a.mp3') })),
      413,
      'request_too_large',
      'The request body is too large.',
    );
  });
});

describe('POST /api/chat refuses bad audio, without opening a session', () => {
  const sendAudio = (audio: File) => app.request('/api/chat', postForm({ type: 'voice', audio }));
  afterEach(() => {
    expect(sessionsOpened).toBe(0);
  });

  it('415 unsupported_audio for a text file named .mp3', async () => {
    const fake = new File(['this is not audio at all'], 'voice.mp3', { type: 'audio/mpeg' });
    await expectRefused(
      await sendAudio(fake),
      415,
      'unsupported_audio',
      'The file is not audio; send webm, ogg, wav, mp3 or m4a audio.',
    );
  });

  it('400 audio_required for an empty file', async () => {
    await expectRefused(
      await sendAudio(new File([], 'voice.webm', { type: 'audio/webm' })),
      400,
      'audio_required',
      'The voice message has no audio.',
    );
  });

  it('413 audio_too_large for audio over VOICE_MESSAGE_MAX_BYTES within the body limit', async () => {
    app = buildApp({ VOICE_MESSAGE_MAX_BYTES: '1024' });
    await expectRefused(
      await sendAudio(new File([new Uint8Array(2048)], 'voice.wav', { type: 'audio/wav' })),
      413,
      'audio_too_large',
      'The audio is larger than 1024 bytes.',
    );
  });
});

describe('POST /api/chat checks who is asking', () => {
  const chatIn = (sessionId: string, headers: Record<string, string> = {}) =>
    chatJson(JSON.stringify({ message: 'Hi.', sessionId }), headers);

  it('404 session_not_found for an unknown sessionId', async () => {
    const { token } = await sessionTokens.issue('no-such-session', 60);
    await expectRefused(
      await chatIn('no-such-session', bearer(token)),
      404,
      'session_not_found',
      'No such session.',
    );
  });

  it('401 session_token_required without a token, 401 invalid_session_token with a bad one', async () => {
    const { sessionId } = await createSession(app, { voice: false });
    await expectRefused(
      await chatIn(sessionId),
      401,
      'session_token_required',
      'This call needs the session token.',
    );
    await expectRefused(
      await chatIn(sessionId, bearer('not-a-token')),
      401,
      'invalid_session_token',
      'The session token is not valid or expired.',
    );
  });

  it("403 forbidden with another session's token", async () => {
    const mine = await createSession(app, { voice: false });
    const theirs = await createSession(app, { voice: false });
    await expectRefused(
      await chatIn(theirs.sessionId, bearer(mine.sessionToken)),
      403,
      'forbidden',
      'The session token is for another session.',
    );
  });

  it('409 session_ended in a session that has ended', async () => {
    const session = await createSession(app, { voice: false });
    const ended = await app.request(`/api/sessions/${session.sessionId}`, {
      method: 'DELETE',
      headers: bearer(session.sessionToken),
    });
    expect(ended.status).toBe(200);
    await expectRefused(
      await chatIn(session.sessionId, bearer(session.sessionToken)),
      409,
      'session_ended',
      'The session has ended.',
    );
  });

  it('with API_KEYS, needs a key to open a session, and only the session token inside one', async () => {
    app = buildApp({ API_KEYS: 'key-one,key-two' });
    await expectRefused(
      await chatJson('{"message":"Hi."}'),
      401,
      'api_key_required',
      'This call needs an API key: Authorization: Bearer <key>.',
    );
    await expectRefused(
      await chatJson('{"message":"Hi."}', bearer('key-three')),
      401,
      'invalid_api_key',
      'The API key is not valid.',
    );

    const opened = await chatJson('{"message":"Hi."}', bearer('key-two'));
    expect(opened.status).toBe(200);
    const { sessionId, sessionToken = '' } = (await opened.json()) as ChatResponse;
    const next = await chatIn(sessionId, bearer(sessionToken));
    expect(next.status).toBe(200);
    expect(await next.json()).toMatchObject({ sessionId, transcript: 'Hi.' });
    // The key is no session token.
    expect((await chatIn(sessionId, bearer('key-two'))).status).toBe(401);
  });
});
