import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, providersSchema } from '../../common/config.js';
import { type DeepgramServer, startDeepgramServer } from '../../test/providers/deepgram.js';
import { type OpenAIServer, startOpenAIServer } from '../../test/providers/openai.js';
import { readAudioFixture, speechWav } from '../../test/support/audio-fixtures.js';
import { ProviderError } from '../providers/errors.js';
import { createTranscriber } from './transcribe.js';

const fastRetries = { retries: 2, baseMs: 1, maxMs: 20 };
let openai: OpenAIServer;
let deepgram: DeepgramServer;
let wav: Uint8Array;

beforeAll(async () => {
  [openai, deepgram, wav] = await Promise.all([
    startOpenAIServer(),
    startDeepgramServer(),
    speechWav(),
  ]);
});
afterAll(() => Promise.all([openai.close(), deepgram.close()]));
afterEach(() => {
  openai.clearFaults();
  deepgram.clearFaults();
});

const openaiTranscriber = (env: Record<string, string> = {}) =>
  createTranscriber(
    loadConfig(providersSchema, { STT_BASE_URL: openai.url, STT_MODEL: 'whisper-1', ...env }),
    { retry: fastRetries },
  );
const deepgramTranscriber = (log?: (details: object, message: string) => void) =>
  createTranscriber(
    loadConfig(providersSchema, { DEEPGRAM_API_KEY: 'dg-test', DEEPGRAM_BASE_URL: deepgram.url }),
    { retry: fastRetries, ...(log && { log }) },
  );
const transcriptionRequests = () => openai.requests.filter((r) => r.route === 'transcriptions');

describe('OpenAI-compatible transcription (STT_BASE_URL)', () => {
  it('uploads the audio with a file name of its format and returns the text', async () => {
    openai.scriptTranscriptions(['What is the weather like today?']);
    const text = await openaiTranscriber({ OPENAI_API_KEY: 'sk-test' }).transcribe(
      wav,
      'audio/wav',
    );
    expect(text).toBe('What is the weather like today?');
    expect(transcriptionRequests().at(-1)?.body).toEqual({
      file: { filename: 'voice-message.wav', size: wav.length, type: 'audio/wav' },
      model: 'whisper-1',
      response_format: 'json',
    });
  });

  it('names a WebM upload .webm, and works without a key for keyless local servers', async () => {
    openai.scriptTranscriptions(['hello']);
    const webm = readAudioFixture('speech-recorder.webm');
    expect(await openaiTranscriber().transcribe(webm, 'audio/webm')).toBe('hello');
    expect(transcriptionRequests().at(-1)?.body).toMatchObject({
      file: { filename: 'voice-message.webm', type: 'audio/webm' },
    });
  });

  it('retries a 429 and succeeds', async () => {
    openai.injectFault('transcriptions', { kind: 'status', status: 429 });
    openai.scriptTranscriptions(['after the rate limit']);
    const before = transcriptionRequests().length;
    expect(await openaiTranscriber().transcribe(wav, 'audio/wav')).toBe('after the rate limit');
    expect(transcriptionRequests().length - before).toBe(2);
  });

  it('gives up on a server that keeps failing after every attempt, as retryable', async () => {
    openai.injectFault('transcriptions', { kind: 'status', status: 500, times: Infinity });
    const before = transcriptionRequests().length;
    const failure = openaiTranscriber().transcribe(wav, 'audio/wav');
    await expect(failure).rejects.toBeInstanceOf(ProviderError);
    await expect(failure).rejects.toMatchObject({ stage: 'stt', status: 500, retryable: true });
    expect(transcriptionRequests().length - before).toBe(fastRetries.retries + 1);
  });

  it('does not retry a 400, and keeps the provider text out of the error', async () => {
    openai.injectFault('transcriptions', { kind: 'status', status: 400 });
    const before = transcriptionRequests().length;
    const error = await openaiTranscriber()
      .transcribe(wav, 'audio/wav')
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ stage: 'stt', status: 400, retryable: false });
    expect((error as Error).message).not.toMatch(/Injected fault/);
    expect(transcriptionRequests().length - before).toBe(1);
  });

  it('times out an attempt that gets no answer', async () => {
    openai.injectFault('transcriptions', { kind: 'timeout' });
    const transcriber = createTranscriber(
      loadConfig(providersSchema, { STT_BASE_URL: openai.url }),
      {
        timeoutMs: 200,
        retry: { retries: 0 },
      },
    );
    await expect(transcriber.transcribe(wav, 'audio/wav')).rejects.toMatchObject({
      stage: 'stt',
      retryable: true,
      message: 'The stt request failed (timeout).',
    });
  });
});

describe('Deepgram prerecorded transcription', () => {
  it('posts the raw audio with its type to /v1/listen over http and reads the transcript', async () => {
    deepgram.scriptTranscripts(['What is the weather like today?']);
    const webm = readAudioFixture('speech.webm');
    expect(await deepgramTranscriber().transcribe(webm, 'audio/webm')).toBe(
      'What is the weather like today?',
    );
    expect(deepgram.prerecordedRequests.at(-1)).toEqual({
      query: { model: 'nova-3', smart_format: 'true', punctuate: 'true' },
      contentType: 'audio/webm',
      bytes: webm.length,
      status: 200,
    });
  });

  it('retries a 503 and a dropped connection, then succeeds', async () => {
    deepgram.injectFault({ kind: 'reject', status: 503 });
    deepgram.injectFault({ kind: 'drop' });
    deepgram.scriptTranscripts(['third time lucky']);
    expect(await deepgramTranscriber().transcribe(wav, 'audio/wav')).toBe('third time lucky');
  });

  it('does not retry a 401 and logs only the status', async () => {
    deepgram.injectFault({ kind: 'reject', status: 401 });
    const logged: object[] = [];
    const before = deepgram.prerecordedRequests.length;
    await expect(
      deepgramTranscriber((details) => logged.push(details)).transcribe(wav, 'audio/wav'),
    ).rejects.toMatchObject({ stage: 'stt', status: 401, retryable: false });
    expect(deepgram.prerecordedRequests.length - before).toBe(1);
    expect(logged).toEqual([{ stage: 'stt', status: 401 }]);
  });

  it('answers provider_not_configured without a Deepgram key, sending nothing', async () => {
    const before = deepgram.prerecordedRequests.length;
    const transcriber = createTranscriber(
      loadConfig(providersSchema, { DEEPGRAM_BASE_URL: deepgram.url }),
    );
    await expect(transcriber.transcribe(wav, 'audio/wav')).rejects.toMatchObject({
      status: 503,
      code: 'provider_not_configured',
    });
    expect(deepgram.prerecordedRequests.length).toBe(before);
  });
});
