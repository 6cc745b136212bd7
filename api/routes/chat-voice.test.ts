/**
 * Voice messages through `POST /api/chat` (`type=voice` with an `audio` file), on the real app
 * and the fake providers: the recording is transcribed (Deepgram's prerecorded API, or an
 * OpenAI-compatible server with STT_BASE_URL), answered, spoken, and the spoken reply served at
 * the answer's `audioUrl`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatResponse } from '../../common/protocol.js';
import { startOpenAIServer } from '../../test/providers/openai.js';
import {
  FIXTURE_SENTENCE,
  readAudioFixture,
  speechWav,
} from '../../test/support/audio-fixtures.js';
import { type FakeProviders, startFakeProviders } from '../../test/support/fake-providers.js';
import { decodeWav, rms } from '../../test/support/speech.js';
import {
  buildTestApp,
  ISO_TIME,
  openTestStore,
  postForm,
  type TestApp,
} from '../../test/support/test-app.js';
import { createVoiceReplies } from '../voice/replies.js';

const { store, remove: removeStore } = await openTestStore();
const repliesDir = mkdtempSync(join(tmpdir(), 'chat-voice-'));
const voiceReplies = createVoiceReplies({ dir: repliesDir, ttlMs: 60_000 });
afterAll(async () => {
  await removeStore();
  rmSync(repliesDir, { recursive: true, force: true });
});

let providers: FakeProviders;
beforeEach(async () => {
  providers = await startFakeProviders();
});
afterEach(() => providers.close());

const buildApp = (env: Record<string, string> = {}) =>
  buildTestApp({ store, env: { ...providers.env, ...env }, voiceReplies }).app;

const wavFile = async () => new File([await speechWav()], 'message.wav', { type: 'audio/wav' });

async function sendVoice(app: TestApp, audio: File) {
  const response = await app.request('/api/chat', postForm({ type: 'voice', audio }));
  expect(response.status).toBe(200);
  return (await response.json()) as ChatResponse;
}

/** Fetches the reply at `audioUrl` through the app and decodes it. */
async function fetchReplyAudio(app: TestApp, audioUrl: string) {
  const response = await app.request(new URL(audioUrl).pathname);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('audio/wav');
  return decodeWav(Buffer.from(await response.arrayBuffer()));
}

describe('POST /api/chat, voice messages', () => {
  it('transcribes the recording with Deepgram, answers it, and speaks the answer', async () => {
    providers.deepgram.scriptTranscripts(['What is the weather like in Paris?']);
    providers.openai.setReply(() => 'It is sunny in Paris today.');
    const app = buildApp();
    const audio = await wavFile();

    const answer = await sendVoice(app, audio);
    expect(answer).toStrictEqual({
      message: 'It is sunny in Paris today.',
      type: 'voice',
      sessionId: expect.any(String),
      transcript: 'What is the weather like in Paris?',
      audioUrl: expect.stringMatching(/^http:\/\/localhost\/api\/voice\/[A-Za-z0-9_-]{32}$/),
      sessionToken: expect.any(String),
    });
    expect(providers.deepgram.prerecordedRequests).toStrictEqual([
      {
        query: { model: 'nova-3', smart_format: 'true', punctuate: 'true' },
        contentType: 'audio/wav',
        bytes: audio.size,
        status: 200,
      },
    ]);
    expect(providers.openai.chatRequests()[0]?.messages.at(-1)).toStrictEqual({
      role: 'user',
      content: 'What is the weather like in Paris?',
    });
    const speech = providers.openai.requests.filter((request) => request.route === 'speech');
    expect(speech.map((request) => request.body)).toStrictEqual([
      {
        model: 'gpt-4o-mini-tts',
        voice: 'alloy',
        input: 'It is sunny in Paris today.',
        response_format: 'wav',
      },
    ]);

    const wav = await fetchReplyAudio(app, answer.audioUrl ?? '');
    expect(wav.sampleRate).toBe(24000);
    expect(wav.samples.length / wav.sampleRate).toBeGreaterThan(0.5);
    expect(rms(wav.samples)).toBeGreaterThan(0.02);

    const items = await store.readEvents(answer.sessionId, 0, 100);
    expect(items).toStrictEqual([
      expect.objectContaining({
        event_type: 'conversation_item',
        role: 'user',
        text: 'What is the weather like in Paris?',
        source: 'voice',
        timestamp: expect.stringMatching(ISO_TIME),
      }),
      expect.objectContaining({
        event_type: 'conversation_item',
        role: 'assistant',
        text: 'It is sunny in Paris today.',
        source: 'voice',
      }),
    ]);
  });

  it('hands out the reply under PUBLIC_URL when it is set', async () => {
    const app = buildApp({ PUBLIC_URL: 'https://voice.example.com/' });
    const answer = await sendVoice(app, await wavFile());
    expect(answer.audioUrl).toMatch(
      /^https:\/\/voice\.example\.com\/api\/voice\/[A-Za-z0-9_-]{32}$/,
    );
    expect(rms((await fetchReplyAudio(app, answer.audioUrl ?? '')).samples)).toBeGreaterThan(0.02);
  });

  it('transcribes with the OpenAI-compatible server instead when STT_BASE_URL is set', async () => {
    providers.openai.scriptTranscriptions([FIXTURE_SENTENCE]);
    const app = buildApp({ STT_BASE_URL: providers.openai.url, STT_MODEL: 'whisper-1' });
    const mp3 = readAudioFixture('speech.mp3');

    const answer = await sendVoice(app, new File([mp3], 'recording.mp3'));
    expect(answer).toMatchObject({ type: 'voice', transcript: FIXTURE_SENTENCE });
    expect(providers.deepgram.prerecordedRequests).toStrictEqual([]);
    const transcriptions = providers.openai.requests.filter(
      (request) => request.route === 'transcriptions',
    );
    expect(transcriptions.map((request) => request.body)).toStrictEqual([
      {
        file: { filename: 'voice-message.mp3', size: mp3.length, type: 'audio/mpeg' },
        model: 'whisper-1',
        response_format: 'json',
      },
    ]);
    expect(await store.readEvents(answer.sessionId, 0, 1)).toMatchObject([
      { role: 'user', text: FIXTURE_SENTENCE, source: 'voice' },
    ]);
  });

  it('transcribes and speaks with the fallback providers when the first ones fail', async () => {
    const backup = await startOpenAIServer();
    try {
      backup.scriptTranscriptions([FIXTURE_SENTENCE]);
      providers.deepgram.injectFault({ kind: 'reject', status: 503, times: Infinity });
      providers.openai.injectFault('speech', { kind: 'status', status: 500, times: Infinity });
      const app = buildApp({
        STT_FALLBACK_BASE_URL: backup.url,
        STT_FALLBACK_MODEL: 'whisper-1',
        TTS_FALLBACK_BASE_URL: backup.url,
      });

      const answer = await sendVoice(app, await wavFile());
      expect(answer).toMatchObject({ type: 'voice', transcript: FIXTURE_SENTENCE });
      expect(rms((await fetchReplyAudio(app, answer.audioUrl ?? '')).samples)).toBeGreaterThan(
        0.02,
      );
      expect(providers.deepgram.prerecordedRequests.length).toBeGreaterThan(0);
      expect(backup.requests.map((request) => [request.route, request.status])).toStrictEqual([
        ['transcriptions', 200],
        ['speech', 200],
      ]);
    } finally {
      await backup.close();
    }
  });
});
