import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type OpenAIServer, startOpenAIServer } from '../../test/providers/openai.js';
import { decodeWav, rms } from '../../test/support/speech.js';
import { testConfig } from '../../test/support/test-app.js';
import { createSpeaker } from './speak.js';

const fastRetries = { retries: 2, baseMs: 1, maxMs: 20 };
let openai: OpenAIServer;

beforeAll(async () => {
  openai = await startOpenAIServer();
});
afterAll(() => openai.close());
afterEach(() => openai.clearFaults());

const speaker = (env: Record<string, string> = {}, fetchAudio?: typeof fetch) =>
  createSpeaker(testConfig({ TTS_BASE_URL: openai.url, TTS_MODEL: 'tts-1', ...env }), {
    retry: fastRetries,
    ...(fetchAudio && { fetch: fetchAudio }),
  });
const speechRequests = () => openai.requests.filter((r) => r.route === 'speech');

describe('createSpeaker', () => {
  it('asks for WAV and returns audible speech labelled audio/wav', async () => {
    const reply = await speaker({ TTS_VOICE: 'nova' }).speak('It is sunny and warm today.');
    expect(reply.mimeType).toBe('audio/wav');
    const wav = decodeWav(Buffer.from(reply.audio));
    expect(wav.samples.length / wav.sampleRate).toBeGreaterThan(1);
    expect(rms(wav.samples)).toBeGreaterThan(0.01);
    expect(speechRequests().at(-1)?.body).toEqual({
      model: 'tts-1',
      voice: 'nova',
      input: 'It is sunny and warm today.',
      response_format: 'wav',
    });
  });

  it('asks for the configured format (this server has no mp3: a 400, not retried)', async () => {
    const before = speechRequests().length;
    await expect(speaker({ VOICE_REPLY_FORMAT: 'mp3' }).speak('Hello.')).rejects.toMatchObject({
      stage: 'tts',
      status: 400,
      retryable: false,
    });
    expect(speechRequests().length - before).toBe(1);
  });

  it('retries a 500 and succeeds', async () => {
    openai.injectFault('speech', { kind: 'status', status: 500 });
    const before = speechRequests().length;
    const reply = await speaker().speak('Hello again.');
    expect(reply.mimeType).toBe('audio/wav');
    expect(speechRequests().length - before).toBe(2);
  });

  it('retries a stream cut after its first bytes', async () => {
    openai.injectFault('speech', { kind: 'drop' });
    const before = speechRequests().length;
    const reply = await speaker().speak('Cut once, then whole.');
    expect(rms(decodeWav(Buffer.from(reply.audio)).samples)).toBeGreaterThan(0.01);
    expect(speechRequests().length - before).toBe(2);
  });

  it('refuses an answer that is not audio, whatever its declared type', async () => {
    const notAudio = async () =>
      new Response('<html>proxy error page</html>', { headers: { 'content-type': 'audio/wav' } });
    await expect(speaker({}, notAudio).speak('Hello.')).rejects.toMatchObject({
      stage: 'tts',
      retryable: false,
      message: 'The tts provider sent something other than audio.',
    });
  });

  it('answers provider_not_configured without a key or a base URL', async () => {
    const unconfigured = createSpeaker(testConfig());
    await expect(unconfigured.speak('Hello.')).rejects.toMatchObject({
      status: 503,
      code: 'provider_not_configured',
    });
  });
});
