// The recorded voice messages of test/fixtures/audio (one sentence in each accepted format), and
// the same sentence as WAV, synthesized at test time.
import { readFileSync } from 'node:fs';
import { encodeWav, synthesizeSpeech } from './speech.js';

export const FIXTURE_SENTENCE = 'What is the weather like today?';
/** Its length in the fixtures, give or take a codec frame. */
export const FIXTURE_DURATION_MS = 1830;

export type AudioFixture =
  | 'speech.webm'
  | 'speech-recorder.webm'
  | 'speech.ogg'
  | 'speech.mp3'
  | 'speech.m4a'
  | 'speech-fragmented.mp4';

export function readAudioFixture(name: AudioFixture): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`../fixtures/audio/${name}`, import.meta.url)));
}

/** 16 kHz mono 16-bit WAV of the fixture sentence. */
export async function speechWav(): Promise<Uint8Array> {
  const { samples, sampleRate } = await synthesizeSpeech(FIXTURE_SENTENCE, { sampleRate: 16000 });
  return new Uint8Array(encodeWav(samples, sampleRate));
}
