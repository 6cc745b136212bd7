/**
 * OpenAI-compatible speech against the fake OpenAI server: audio arrives as frames, a failure
 * before the first audio is retried by the framework, one after it is not, and final failures
 * come out as the framework's errors.
 */
import { APIStatusError, initializeLogger, type tts } from '@livekit/agents';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type OpenAIServer, startOpenAIServer } from '../test/providers/openai.js';
import { tolerateProviderStreamRejections } from '../test/support/framework-errors.js';
import { OpenAITTS, SpeechCutOffError } from './openai-tts.js';

const TEXT = 'The capital of France is Paris.';
const CONN_OPTIONS = { maxRetry: 2, retryIntervalMs: 10, timeoutMs: 1000 };

interface Outcome {
  frames: tts.SynthesizedAudio[];
  errors: { error: Error; recoverable: boolean }[];
}

async function synthesize(speech: OpenAITTS): Promise<Outcome> {
  const errors: Outcome['errors'] = [];
  speech.on('error', (event) => errors.push(event));
  const frames: tts.SynthesizedAudio[] = [];
  for await (const audio of speech.synthesize(TEXT, CONN_OPTIONS)) frames.push(audio);
  return { frames, errors };
}

const seconds = (frames: tts.SynthesizedAudio[]) =>
  frames.reduce((sum, { frame }) => sum + frame.samplesPerChannel / frame.sampleRate, 0);

describe('OpenAITTS', () => {
  let server: OpenAIServer;
  let speech: OpenAITTS;

  tolerateProviderStreamRejections();
  beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));
  beforeEach(async () => {
    server = await startOpenAIServer();
    speech = new OpenAITTS({ baseURL: server.url, apiKey: 'test', model: 'tts-1', voice: 'alloy' });
  });
  afterEach(() => server.close());

  const speechRequests = () => server.requests.filter((request) => request.route === 'speech');

  it('speaks the text as 24 kHz frames, the last one marked final', async () => {
    const { frames, errors } = await synthesize(speech);
    expect(errors).toEqual([]);
    expect(seconds(frames)).toBeGreaterThan(1);
    expect(frames.every(({ frame }) => frame.sampleRate === 24_000)).toBe(true);
    expect(frames.map((audio) => audio.final).lastIndexOf(true)).toBe(frames.length - 1);
    expect(speechRequests()[0]?.body).toMatchObject({ input: TEXT, response_format: 'pcm' });
  });

  it('retries a server error before the first audio, with a new request', async () => {
    server.injectFault('speech', { kind: 'status', status: 500 });
    const { frames, errors } = await synthesize(speech);
    expect(errors).toEqual([]);
    expect(seconds(frames)).toBeGreaterThan(1);
    expect(speechRequests().map((request) => request.status)).toEqual([500, 200]);
  });

  it('retries a request that times out', async () => {
    server.injectFault('speech', { kind: 'timeout' });
    const { frames, errors } = await synthesize(speech);
    expect(errors).toEqual([]);
    expect(seconds(frames)).toBeGreaterThan(1);
    expect(speechRequests()).toHaveLength(2);
  });

  it('gives up on a refusal at once, as a status error', async () => {
    server.injectFault('speech', { kind: 'status', status: 400 });
    const { frames, errors } = await synthesize(speech);
    expect(frames).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.recoverable).toBe(false);
    expect(errors[0]?.error).toBeInstanceOf(APIStatusError);
    expect(speechRequests()).toHaveLength(1);
  });

  it('gives up after the retries when the server keeps failing', async () => {
    server.injectFault('speech', { kind: 'status', status: 503, times: Infinity });
    const { frames, errors } = await synthesize(speech);
    expect(frames).toEqual([]);
    expect(errors.map((event) => event.recoverable)).toEqual([false]);
    expect(speechRequests()).toHaveLength(CONN_OPTIONS.maxRetry + 1);
  });

  it('keeps the audio that came and does not retry when the answer breaks off', async () => {
    server.injectFault('speech', { kind: 'drop' });
    const { frames, errors } = await synthesize(speech);
    expect(frames.length).toBeGreaterThan(0);
    expect(seconds(frames)).toBeLessThan(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.error).toBeInstanceOf(SpeechCutOffError);
    expect(speechRequests()).toHaveLength(1);
  });
});
