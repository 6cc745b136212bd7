// The fake provider servers, driven by the real LiveKit plugins pointed at them by base URL.
import { initializeLogger, llm, stt } from '@livekit/agents';
import * as deepgram from '@livekit/agents-plugin-deepgram';
import * as openai from '@livekit/agents-plugin-openai';
import { AudioFrame } from '@livekit/rtc-node';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type DeepgramServer, startDeepgramServer } from '../providers/deepgram.js';
import { type OpenAIServer, startOpenAIServer } from '../providers/openai.js';
import { decodeWav, rms, synthesizeSpeech } from '../support/speech.js';

const API_KEY = 'test-key';
const MODEL = 'gpt-4.1-mini';

function chatContext(userText: string): llm.ChatContext {
  const chatCtx = llm.ChatContext.empty();
  chatCtx.addMessage({ role: 'system', content: 'You are terse.' });
  chatCtx.addMessage({ role: 'user', content: userText });
  return chatCtx;
}

async function readReply(stream: llm.LLMStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.delta?.content ?? '';
  return text;
}

/** Speech then silence, cut into 20 ms frames as a microphone track would deliver them. */
async function speechFrames(text: string, sampleRate: number): Promise<AudioFrame[]> {
  const { samples } = await synthesizeSpeech(text, { sampleRate });
  const audio = new Int16Array(samples.length + sampleRate);
  audio.set(samples);
  const frameSamples = sampleRate / 50;
  const frames: AudioFrame[] = [];
  for (let offset = 0; offset + frameSamples <= audio.length; offset += frameSamples) {
    frames.push(
      new AudioFrame(audio.slice(offset, offset + frameSamples), sampleRate, 1, frameSamples),
    );
  }
  return frames;
}

beforeAll(() => {
  initializeLogger({ pretty: false, level: 'fatal' });
});

describe('fake OpenAI server', () => {
  let server: OpenAIServer;
  beforeEach(async () => {
    server = await startOpenAIServer();
  });
  afterEach(() => server.close());

  it('streams the reply to the real LLM plugin and records the messages', async () => {
    const model = new openai.LLM({ baseURL: server.url, apiKey: API_KEY, model: MODEL });
    const reply = await readReply(model.chat({ chatCtx: chatContext('What time is it?') }));

    expect(reply).toBe('I heard: "What time is it?". How can I help?');
    const [request] = server.chatRequests();
    expect(request).toMatchObject({
      model: MODEL,
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'What time is it?' },
      ],
    });
    expect(server.requests[0]).toMatchObject({ status: 200, aborted: false });
    expect(server.requests[0]?.headers.authorization).toBe('[redacted]');
  });

  it('answers a 429 fault, then succeeds on the plugin retry', async () => {
    server.injectFault('chat', { kind: 'status', status: 429 });
    const model = new openai.LLM({ baseURL: server.url, apiKey: API_KEY, model: MODEL });
    const errors: { recoverable: boolean }[] = [];
    model.on('error', (error) => errors.push(error));
    const connOptions = { maxRetry: 1, retryIntervalMs: 10, timeoutMs: 5000 };

    const reply = await readReply(model.chat({ chatCtx: chatContext('Again'), connOptions }));

    expect(reply).toBe('I heard: "Again". How can I help?');
    expect(server.requests.map((request) => request.status)).toEqual([429, 200]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.recoverable).toBe(true);
  });

  it('marks a streaming chat aborted when the plugin closes it mid-reply', async () => {
    server.setLatency({ llmTokenIntervalMs: 100 });
    const model = new openai.LLM({ baseURL: server.url, apiKey: API_KEY, model: MODEL });
    const stream = model.chat({ chatCtx: chatContext('Tell me a long story') });
    for await (const chunk of stream) {
      if (chunk.delta?.content) break;
    }
    stream.close();

    await vi.waitFor(() => expect(server.requests[0]?.aborted).toBe(true));
    expect(server.requests[0]?.completedAt).toBeUndefined();
  });

  it('cuts a streaming chat when a drop fault is injected', async () => {
    server.injectFault('chat', { kind: 'drop' });
    const model = new openai.LLM({ baseURL: server.url, apiKey: API_KEY, model: MODEL });
    const errors: { recoverable: boolean }[] = [];
    model.on('error', (error) => errors.push(error));
    const connOptions = { maxRetry: 0, retryIntervalMs: 10, timeoutMs: 5000 };

    const reply = await readReply(model.chat({ chatCtx: chatContext('Hello'), connOptions }));

    expect(reply).toBe('I');
    expect(errors).toHaveLength(1);
    expect(server.requests[0]?.aborted).toBe(false);
    expect(server.requests[0]?.completedAt).toBeUndefined();
  });

  it('never answers under a timeout fault, and records the client giving up', async () => {
    server.injectFault('models', { kind: 'timeout' });
    const listing = fetch(`${server.url}/models`, {
      headers: { authorization: `Bearer ${API_KEY}` },
      signal: AbortSignal.timeout(200),
    });

    await expect(listing).rejects.toThrow();
    await vi.waitFor(() => expect(server.requests[0]?.aborted).toBe(true));
    expect(server.requests[0]?.status).toBeUndefined();
  });

  it('speaks the input through the real TTS plugin as 24 kHz PCM', async () => {
    const tts = new openai.TTS({ baseURL: server.url, apiKey: API_KEY, model: 'tts-1' });
    const samples: number[] = [];
    for await (const audio of tts.synthesize('Hello there')) {
      expect(audio.frame.sampleRate).toBe(24000);
      samples.push(...audio.frame.data);
    }

    const expected = await synthesizeSpeech('Hello there', { sampleRate: 24000 });
    expect(samples.length).toBeGreaterThan(expected.samples.length - 2400);
    expect(rms(Int16Array.from(samples))).toBeGreaterThan(0.02);
    expect(server.requests[0]?.body).toMatchObject({
      input: 'Hello there',
      response_format: 'pcm',
    });
  });

  it('serves WAV speech and refuses formats it cannot encode', async () => {
    const speech = (format: string) =>
      fetch(`${server.url}/audio/speech`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'tts-1',
          voice: 'alloy',
          input: 'Yes',
          response_format: format,
        }),
      });
    const wav = decodeWav(Buffer.from(await (await speech('wav')).arrayBuffer()));
    expect(wav).toMatchObject({ sampleRate: 24000, channels: 1 });
    expect(rms(wav.samples)).toBeGreaterThan(0.02);

    const refused = await speech('mp3');
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
  });

  it('transcribes an upload from the real STT plugin with the scripted text', async () => {
    server.scriptTranscriptions(['turn the lights off']);
    const sttModel = new openai.STT({
      baseURL: server.url,
      apiKey: API_KEY,
      model: 'whisper-1',
      useRealtime: false,
    });
    const frames = await speechFrames('Turn the lights off', 24000);

    const event = await sttModel.recognize(frames);

    expect(event.type).toBe(stt.SpeechEventType.FINAL_TRANSCRIPT);
    expect(event.alternatives?.[0].text).toBe('turn the lights off');
    expect(server.requests[0]?.body).toMatchObject({
      model: 'whisper-1',
      response_format: 'json',
      file: { filename: 'audio.wav', size: frames.length * 480 * 2 + 44 },
    });
  });

  it('lists models and refuses requests without a bearer token', async () => {
    const listed = await fetch(`${server.url}/models`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    expect(await listed.json()).toMatchObject({
      object: 'list',
      data: expect.arrayContaining([
        { id: MODEL, object: 'model', created: expect.any(Number), owned_by: 'system' },
      ]),
    });

    const anonymous = await fetch(`${server.url}/models`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'invalid_api_key' } });
  });
});

describe('fake Deepgram server', () => {
  let server: DeepgramServer;
  beforeEach(async () => {
    server = await startDeepgramServer();
  });
  afterEach(() => server.close());

  async function transcribe(text: string): Promise<stt.SpeechEvent[]> {
    const sttModel = new deepgram.STT({ apiKey: API_KEY, baseUrl: server.url });
    const stream = sttModel.stream();
    for (const frame of await speechFrames(text, 16000)) stream.pushFrame(frame);
    const events: stt.SpeechEvent[] = [];
    for await (const event of stream) {
      events.push(event);
      if (event.type === stt.SpeechEventType.END_OF_SPEECH) stream.endInput();
    }
    return events;
  }

  it('streams interim and final transcripts of speech to the real STT plugin', async () => {
    server.scriptTranscripts(['Book a table for two.']);
    const events = await transcribe('Book a table for two');

    const kinds = events
      .map((event) => event.type)
      .filter((type) => type !== stt.SpeechEventType.RECOGNITION_USAGE);
    expect(kinds[0]).toBe(stt.SpeechEventType.START_OF_SPEECH);
    expect(kinds.slice(-2)).toEqual([
      stt.SpeechEventType.FINAL_TRANSCRIPT,
      stt.SpeechEventType.END_OF_SPEECH,
    ]);
    const interims = events
      .filter((event) => event.type === stt.SpeechEventType.INTERIM_TRANSCRIPT)
      .map((event) => event.alternatives?.[0].text);
    expect(interims.length).toBeGreaterThan(1);
    for (const interim of interims)
      expect('Book a table for two.'.startsWith(interim ?? '-')).toBe(true);
    const final = events.find((event) => event.type === stt.SpeechEventType.FINAL_TRANSCRIPT);
    expect(final?.alternatives?.[0].text).toBe('Book a table for two.');
    expect(final?.alternatives?.[0].words?.map((word) => word.text)).toEqual([
      'Book',
      'a',
      'table',
      'for',
      'two.',
    ]);

    const [connection] = server.connections;
    expect(connection?.query).toMatchObject({
      encoding: 'linear16',
      sample_rate: '16000',
      channels: '1',
    });
    expect(connection?.controlMessages).toContain('CloseStream');
    expect(connection?.utterances).toMatchObject([{ transcript: 'Book a table for two.' }]);
    expect(connection?.utterances[0]?.finalSentAt).toBeGreaterThanOrEqual(
      connection?.utterances[0]?.speechEndedAt ?? Infinity,
    );
  });

  it('uses the default transcript when none is scripted', async () => {
    const events = await transcribe('Hi');
    const final = events.find((event) => event.type === stt.SpeechEventType.FINAL_TRANSCRIPT);
    expect(final?.alternatives?.[0].text).toBe('hello');
  });

  it('terminates the socket mid-utterance under a drop fault', async () => {
    server.injectFault({ kind: 'drop', afterSpeechMs: 300 });
    server.scriptTranscripts(['never finished']);
    const sttModel = new deepgram.STT({ apiKey: API_KEY, baseUrl: server.url });
    const stream = sttModel.stream();
    for (const frame of await speechFrames('This one is lost', 16000)) stream.pushFrame(frame);

    await vi.waitFor(() => expect(server.connections[0]?.closedAt).toBeDefined());
    const [connection] = server.connections;
    expect(connection?.utterances).toMatchObject([{ transcript: 'never finished' }]);
    expect(connection?.utterances[0]?.finalSentAt).toBeUndefined();
    expect(connection?.controlMessages).not.toContain('CloseStream');
    stream.close();
  });

  it('cuts a connection that is already open, mid-utterance, on request', async () => {
    server.scriptTranscripts(['cut while live']);
    const sttModel = new deepgram.STT({ apiKey: API_KEY, baseUrl: server.url });
    const stream = sttModel.stream();
    await vi.waitFor(() => expect(server.connections).toHaveLength(1));
    expect(server.dropLiveConnections({ afterSpeechMs: 300 })).toBe(1);
    for (const frame of await speechFrames('This one is lost', 16000)) stream.pushFrame(frame);

    await vi.waitFor(() => expect(server.connections[0]?.closedAt).toBeDefined());
    expect(server.connections[0]?.utterances).toMatchObject([{ transcript: 'cut while live' }]);
    expect(server.connections[0]?.utterances[0]?.finalSentAt).toBeUndefined();
    expect(server.dropLiveConnections()).toBe(0);
    stream.close();
  });

  it('rejects an upgrade with an injected 429, and the plugin reconnects', async () => {
    server.injectFault({ kind: 'reject', status: 429 });
    server.scriptTranscripts(['after the retry']);
    const events = await transcribe('After the retry');
    const final = events.find((event) => event.type === stt.SpeechEventType.FINAL_TRANSCRIPT);
    expect(final?.alternatives?.[0].text).toBe('after the retry');
    expect(server.connections).toHaveLength(1);
  });
});
