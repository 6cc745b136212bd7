/**
 * The STT watchdog: the stall rule on its own, then the real Deepgram plugin inside it against
 * the fake Deepgram server, whose socket is cut in the middle of an utterance.
 */
import { initializeLogger, stt } from '@livekit/agents';
import * as deepgram from '@livekit/agents-plugin-deepgram';
import { AudioFrame } from '@livekit/rtc-node';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DeepgramServer, startDeepgramServer } from '../test/providers/deepgram.js';
import { tolerateProviderStreamRejections } from '../test/support/framework-errors.js';
import { synthesizeSpeech } from '../test/support/speech.js';
import { StallDetector, StallGuardedSTT } from './stt-watchdog.js';

describe('StallDetector', () => {
  it('stalls when speech goes unanswered for the timeout', () => {
    const detector = new StallDetector(1000);
    detector.userSpeaking(true, 0);
    expect(detector.stalled(999)).toBe(false);
    expect(detector.stalled(1000)).toBe(true);
  });

  it('waits again from each result, until the utterance is closed', () => {
    const detector = new StallDetector(1000);
    detector.userSpeaking(true, 0);
    detector.heard(800);
    expect(detector.stalled(1500)).toBe(false);
    detector.userSpeaking(false, 1600);
    expect(detector.stalled(1799)).toBe(false);
    expect(detector.stalled(1800)).toBe(true);
    detector.answered(1900);
    expect(detector.stalled(10_000)).toBe(false);
  });

  it('waits through a final while the user still speaks, not once the user stops', () => {
    const detector = new StallDetector(1000);
    detector.userSpeaking(true, 0);
    detector.answered(500);
    expect(detector.stalled(1500)).toBe(true);
    detector.userSpeaking(false, 600);
    expect(detector.stalled(10_000)).toBe(false);
  });

  it('never stalls in silence', () => {
    const detector = new StallDetector(1000);
    detector.userSpeaking(false, 0);
    detector.answered(10);
    expect(detector.stalled(60_000)).toBe(false);
  });
});

const SAMPLE_RATE = 16_000;
const STALL_TIMEOUT_MS = 800;
const CONN_OPTIONS = { maxRetry: 2, retryIntervalMs: 10, timeoutMs: 2000 };

/** Speech then a second of silence, in 20 ms frames. */
async function utterance(text: string): Promise<AudioFrame[]> {
  const { samples } = await synthesizeSpeech(text, { sampleRate: SAMPLE_RATE });
  const audio = new Int16Array(samples.length + SAMPLE_RATE);
  audio.set(samples);
  const frameSamples = SAMPLE_RATE / 50;
  const frames: AudioFrame[] = [];
  for (let offset = 0; offset + frameSamples <= audio.length; offset += frameSamples) {
    const data = audio.slice(offset, offset + frameSamples);
    frames.push(new AudioFrame(data, SAMPLE_RATE, 1, frameSamples));
  }
  return frames;
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('StallGuardedSTT around the Deepgram plugin', () => {
  let server: DeepgramServer;
  let guarded: StallGuardedSTT;
  let events: stt.SpeechEvent[];
  let errors: { recoverable: boolean }[];

  tolerateProviderStreamRejections();
  beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));
  beforeEach(async () => {
    server = await startDeepgramServer();
    guarded = new StallGuardedSTT(
      new deepgram.STT({ apiKey: 'test', baseUrl: server.url }),
      STALL_TIMEOUT_MS,
    );
    events = [];
    errors = [];
    guarded.on('error', (event) => errors.push(event));
  });
  afterEach(() => server.close());

  function listen(): stt.SpeechStream {
    const stream = guarded.stream({ connOptions: CONN_OPTIONS });
    void (async () => {
      for await (const event of stream) events.push(event);
    })();
    return stream;
  }

  const finals = () =>
    events
      .filter((event) => event.type === stt.SpeechEventType.FINAL_TRANSCRIPT)
      .map((event) => event.alternatives?.[0]?.text);

  it('passes transcripts through, on one connection, when nothing goes wrong', async () => {
    server.scriptTranscripts(['What is the capital of France?']);
    const stream = listen();
    const frames = await utterance('What is the capital of France?');
    guarded.userSpeaking(true);
    for (const frame of frames) stream.pushFrame(frame);
    guarded.userSpeaking(false);

    await until(() => finals().length === 1);
    expect(finals()).toEqual(['What is the capital of France?']);
    await new Promise((resolve) => setTimeout(resolve, STALL_TIMEOUT_MS + 200));
    expect(server.connections).toHaveLength(1);
    stream.close();
  });

  it('reconnects when the socket dies mid-utterance, and transcribes the utterance again', async () => {
    server.scriptTranscripts(['cut off', 'What is the capital of France?']);
    const stream = listen();
    await until(() => server.connections.length === 1);
    server.dropLiveConnections({ afterSpeechMs: 300 });

    const frames = await utterance('What is the capital of France?');
    guarded.userSpeaking(true);
    for (const frame of frames) stream.pushFrame(frame);
    guarded.userSpeaking(false);

    await until(() => finals().length === 1);
    expect(finals()).toEqual(['What is the capital of France?']);
    expect(server.connections).toHaveLength(2);
    expect(server.connections[0]?.utterances[0]?.finalSentAt).toBeUndefined();
    expect(errors).toEqual([]);
    stream.close();
  });

  it('fails the stream for good when reconnecting is refused, after the retries', async () => {
    const stream = listen();
    await until(() => server.connections.length === 1);
    server.injectFault({ kind: 'reject', status: 503, times: Infinity });
    server.dropLiveConnections({ afterSpeechMs: 300 });

    const frames = await utterance('Hello there');
    guarded.userSpeaking(true);
    for (const frame of frames) stream.pushFrame(frame);
    guarded.userSpeaking(false);

    await until(() => errors.length > 0);
    expect(errors).toMatchObject([{ recoverable: false }]);
    expect(stream._failed).toBe(true);
    stream.close();
  });
});
