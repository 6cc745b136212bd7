import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAudioFixture } from '../../test/support/audio-fixtures.js';
import { testConfig } from '../../test/support/test-app.js';
import { ProviderError } from '../providers/errors.js';
import { createVoiceMessages } from './messages.js';
import { createVoiceReplies, type VoiceReplies } from './replies.js';
import type { Speaker } from './speak.js';
import type { Transcriber } from './transcribe.js';

const webm = readAudioFixture('speech-recorder.webm');
const replyAudio = new Uint8Array([1, 2, 3]);
let dir: string;
let replies: VoiceReplies;
let transcribed: { mimeType: string; bytes: number }[];
let spoken: string[];
let transcript: () => Promise<string>;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'voice-messages-'));
  replies = createVoiceReplies({ dir, ttlMs: 60_000 });
  transcribed = [];
  spoken = [];
  transcript = async () => 'What is the weather like today?';
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const transcriber: Transcriber = {
  async transcribe(audio, mimeType) {
    transcribed.push({ mimeType, bytes: audio.length });
    return transcript();
  },
};
const speaker: Speaker = {
  async speak(text) {
    spoken.push(text);
    return { audio: replyAudio, mimeType: 'audio/wav' };
  },
};
const voiceMessages = (env: Record<string, string> = {}) =>
  createVoiceMessages({ config: testConfig(env), replies, transcriber, speaker });

describe('voice messages', () => {
  it('transcribes by the content: WebM named and declared as MP3 goes out as audio/webm', async () => {
    const upload = new File([webm], 'voice.mp3', { type: 'audio/mpeg' });
    expect(await voiceMessages().transcribe(upload)).toBe('What is the weather like today?');
    expect(transcribed).toEqual([{ mimeType: 'audio/webm', bytes: webm.length }]);
  });

  it('refuses an upload over the size limit before reading it', async () => {
    const upload = new File([webm], 'voice.webm');
    const small = voiceMessages({ VOICE_MESSAGE_MAX_BYTES: String(webm.length - 1) });
    await expect(small.transcribe(upload)).rejects.toMatchObject({
      status: 413,
      code: 'audio_too_large',
    });
    expect(transcribed).toEqual([]);
  });

  it('answers no_speech when nothing was recognized', async () => {
    transcript = async () => '';
    await expect(voiceMessages().transcribe(new File([webm], 'a.webm'))).rejects.toMatchObject({
      status: 422,
      code: 'no_speech',
    });
  });

  it.each([
    [true, 503, 'stt_unavailable'],
    [false, 502, 'stt_request_rejected'],
  ])('turns a provider failure (retryable: %s) into %i %s', async (retryable, status, code) => {
    transcript = async () => {
      throw new ProviderError('stt', 'The stt provider answered 418.', { status: 418, retryable });
    };
    const error = await voiceMessages()
      .transcribe(new File([webm], 'a.webm'))
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status, code });
    expect((error as Error).message).not.toMatch(/418/);
  });

  it('speaks the reply, stores it and returns its path', async () => {
    const path = await voiceMessages().speak('It is sunny.');
    expect(spoken).toEqual(['It is sunny.']);
    const id = path.replace(/^\/api\/voice\//, '');
    expect(await replies.open(id)).toMatchObject({ bytes: replyAudio, mimeType: 'audio/wav' });
  });

  it('speaks a reply too long for one TTS request up to its last whole sentence', async () => {
    const sentence = 'The forecast says sun all week long. ';
    await voiceMessages().speak(sentence.repeat(200));
    const [text = ''] = spoken;
    expect(text.length).toBeLessThanOrEqual(4096);
    expect(text.length).toBeGreaterThan(4000);
    expect(text.endsWith('long.')).toBe(true);
  });
});
