import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AudioFixture,
  FIXTURE_DURATION_MS,
  readAudioFixture,
  speechWav,
} from '../../test/support/audio-fixtures.js';
import { inspectAudio } from './audio-check.js';
import { webmDurationMs } from './webm-duration.js';

const limits = { maxBytes: 1024 * 1024, maxSeconds: 120 };
const text = (value: string) => new TextEncoder().encode(value);
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
/** An ID3v2.3 tag header announcing a 16-byte tag, as MP3 files start. */
const ID3_HEADER = new Uint8Array([...text('ID3'), 3, 0, 0, 0, 0, 0, 16]);

/** Bytes that look random but are the same on every run (real randomness could hit a magic number). */
function noise(length: number): Uint8Array {
  const hash = (block: number) => createHash('sha256').update(`noise ${block}`).digest();
  const bytes = concat(
    ...Array.from({ length: Math.ceil(length / 32) }, (_, block) => hash(block)),
  );
  bytes[0] = 0x42; // not 0xFF: that would start an MPEG frame sync
  return bytes.subarray(0, length);
}

let wav: Uint8Array;
beforeAll(async () => {
  wav = await speechWav();
});

describe('inspectAudio', () => {
  it.each<[AudioFixture, string, string]>([
    ['speech.webm', 'webm', 'audio/webm'],
    ['speech-recorder.webm', 'webm', 'audio/webm'],
    ['speech.ogg', 'ogg', 'audio/ogg'],
    ['speech.mp3', 'mp3', 'audio/mpeg'],
    ['speech.m4a', 'm4a', 'audio/mp4'],
    ['speech-fragmented.mp4', 'm4a', 'audio/mp4'],
  ])('identifies %s by its content and measures it', async (name, format, mimeType) => {
    const inspected = await inspectAudio(readAudioFixture(name), limits);
    expect(inspected).toMatchObject({ format, mimeType });
    expect(inspected.durationMs).toBeGreaterThan(FIXTURE_DURATION_MS - 60);
    expect(inspected.durationMs).toBeLessThan(FIXTURE_DURATION_MS + 120);
  });

  it('measures WAV to the sample', async () => {
    const samples = (wav.length - 44) / 2;
    expect(await inspectAudio(wav, limits)).toEqual({
      format: 'wav',
      mimeType: 'audio/wav',
      durationMs: (samples / 16000) * 1000,
    });
  });

  it('measures a recorder WebM, which has no Duration element, by its blocks', () => {
    const duration = webmDurationMs(readAudioFixture('speech-recorder.webm'));
    expect(duration).toBeGreaterThan(FIXTURE_DURATION_MS - 60);
    expect(duration).toBeLessThanOrEqual(FIXTURE_DURATION_MS);
  });

  it('refuses an empty file', async () => {
    await expect(inspectAudio(new Uint8Array(0), limits)).rejects.toMatchObject({
      status: 400,
      code: 'audio_required',
    });
  });

  it.each([
    ['a text file (named .mp3 by its sender)', text('this is not audio\n'.repeat(50))],
    ['random bytes', noise(4000)],
    ['an ID3 tag around text', concat(ID3_HEADER, noise(16), text('no frames'.repeat(40)))],
  ])('refuses %s as unsupported', async (_name, bytes) => {
    await expect(inspectAudio(bytes, limits)).rejects.toMatchObject({
      status: 415,
      code: 'unsupported_audio',
      message: 'The file is not audio; send webm, ogg, wav, mp3 or m4a audio.',
    });
  });

  it('says what a recognized file of another type is', async () => {
    const flac = new Uint8Array([...text('fLaC'), 0, 0, 0, 34, ...new Uint8Array(34)]);
    await expect(inspectAudio(flac, limits)).rejects.toMatchObject({
      status: 415,
      code: 'unsupported_audio',
      message: expect.stringMatching(/^audio\/(x-)?flac is not supported/),
    });
  });

  it.each<[string, () => Uint8Array]>([
    [
      'a RIFF/WAVE header over noise',
      () => concat(text('RIFF'), new Uint8Array([0xf8, 0x0f, 0, 0]), text('WAVE'), noise(4000)),
    ],
    ['an Ogg file cut short', () => readAudioFixture('speech.ogg').subarray(0, 200)],
    ['an MP4 file cut short', () => readAudioFixture('speech.m4a').subarray(0, 200)],
    [
      'a WebM header followed by noise',
      () => concat(readAudioFixture('speech.webm').subarray(0, 64), noise(4000)),
    ],
  ])('refuses %s as unreadable', async (_name, bytes) => {
    await expect(inspectAudio(bytes(), limits)).rejects.toMatchObject({
      status: 400,
      code: 'audio_unreadable',
    });
  });

  it('refuses audio over the size limit before parsing it', async () => {
    const maxBytes = 4000;
    await expect(inspectAudio(noise(maxBytes + 1), { ...limits, maxBytes })).rejects.toMatchObject({
      status: 413,
      code: 'audio_too_large',
      message: 'The audio is larger than 4000 bytes.',
    });
  });

  it('refuses audio over the duration limit', async () => {
    await expect(inspectAudio(wav, { ...limits, maxSeconds: 1 })).rejects.toMatchObject({
      status: 422,
      code: 'audio_too_long',
      message: 'The audio is longer than 1 s.',
    });
    await expect(
      inspectAudio(readAudioFixture('speech-recorder.webm'), { ...limits, maxSeconds: 1 }),
    ).rejects.toMatchObject({ code: 'audio_too_long' });
  });
});
