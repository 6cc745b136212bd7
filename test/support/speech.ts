// Test speech: espeak-ng (WebAssembly, offline) synthesis, WAV encoding/decoding, loudness.
// Shared by the fake provider servers and by the scripted test caller.
import ESpeakNg from 'espeak-ng';

export interface Speech {
  samples: Int16Array;
  sampleRate: number;
}

export interface DecodedWav extends Speech {
  /** Interleaved when `channels` > 1. */
  channels: number;
}

/** espeak-ng's native output rate (mono, 16-bit). */
export const ESPEAK_SAMPLE_RATE = 22050;
const WAV_HEADER_BYTES = 44;
const MAX_CACHED_TEXTS = 256;

// espeak-ng's CLI cannot be re-run inside one WASM instance (getopt state survives `main`),
// so each synthesis pays ~250 ms of instantiation; the output is deterministic, so it is cached.
const synthesisCache = new Map<string, Promise<Speech>>();

export async function synthesizeSpeech(
  text: string,
  options: { sampleRate?: number; voice?: string } = {},
): Promise<Speech> {
  const native = await synthesizeCached(text, options.voice ?? 'en-us');
  const sampleRate = options.sampleRate ?? native.sampleRate;
  return { samples: resample(native.samples, native.sampleRate, sampleRate), sampleRate };
}

function synthesizeCached(text: string, voice: string): Promise<Speech> {
  const key = `${voice}\u0000${text}`;
  let synthesis = synthesisCache.get(key);
  if (!synthesis) {
    synthesis = runEspeak(text, voice);
    synthesis.catch(() => synthesisCache.delete(key));
    synthesisCache.set(key, synthesis);
    const oldest = synthesisCache.keys().next().value;
    if (synthesisCache.size > MAX_CACHED_TEXTS && oldest !== undefined) {
      synthesisCache.delete(oldest);
    }
  }
  return synthesis;
}

async function runEspeak(text: string, voice: string): Promise<Speech> {
  // Without text espeak reads stdin, which never ends here.
  if (text.trim() === '') return { samples: new Int16Array(0), sampleRate: ESPEAK_SAMPLE_RATE };
  const errors: string[] = [];
  const espeak = await ESpeakNg({
    // `--` keeps text starting with a dash from being parsed as an option.
    arguments: ['-v', voice, '-w', 'speech.wav', '--', text],
    print: () => {},
    printErr: (line) => errors.push(line),
  });
  let wav: Uint8Array;
  try {
    wav = espeak.FS.readFile('speech.wav');
  } catch {
    throw new Error(`espeak-ng produced no audio for voice ${voice}: ${errors.join(' ')}`);
  }
  const { samples, sampleRate } = decodeWav(
    Buffer.from(wav.buffer, wav.byteOffset, wav.byteLength),
  );
  return { samples, sampleRate };
}

/** Linear interpolation; enough for energy detectors and listening, not for hi-fi. */
export function resample(samples: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (fromRate === toRate || samples.length === 0) return samples.slice();
  const outLength = Math.round((samples.length * toRate) / fromRate);
  const out = new Int16Array(outLength);
  const step = fromRate / toRate;
  const last = samples.length - 1;
  for (let i = 0; i < outLength; i++) {
    const position = i * step;
    const left = Math.min(Math.floor(position), last);
    const right = Math.min(left + 1, last);
    const fraction = position - left;
    const a = samples[left] ?? 0;
    const b = samples[right] ?? 0;
    out[i] = Math.round(a + (b - a) * fraction);
  }
  return out;
}

/** Mono 16-bit PCM WAV. */
export function encodeWav(samples: Int16Array, sampleRate: number): Buffer {
  const dataBytes = samples.length * 2;
  const wav = Buffer.alloc(WAV_HEADER_BYTES + dataBytes);
  wav.write('RIFF', 0, 'ascii');
  wav.writeUInt32LE(36 + dataBytes, 4);
  wav.write('WAVE', 8, 'ascii');
  wav.write('fmt ', 12, 'ascii');
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20);
  wav.writeUInt16LE(1, 22);
  wav.writeUInt32LE(sampleRate, 24);
  wav.writeUInt32LE(sampleRate * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36, 'ascii');
  wav.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < samples.length; i++) {
    wav.writeInt16LE(samples[i] ?? 0, WAV_HEADER_BYTES + i * 2);
  }
  return wav;
}

/** 16-bit PCM WAV (also WAVE_FORMAT_EXTENSIBLE); a data size past the end is clamped. */
export function decodeWav(wav: Buffer): DecodedWav {
  if (wav.toString('ascii', 0, 4) !== 'RIFF' || wav.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error('not a RIFF/WAVE file');
  }
  let format: { channels: number; sampleRate: number } | undefined;
  let offset = 12;
  while (offset + 8 <= wav.length) {
    const chunkId = wav.toString('ascii', offset, offset + 4);
    const chunkSize = wav.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (chunkId === 'fmt ') {
      const formatTag = wav.readUInt16LE(body);
      const bitsPerSample = wav.readUInt16LE(body + 14);
      if ((formatTag !== 1 && formatTag !== 0xfffe) || bitsPerSample !== 16) {
        throw new Error(`unsupported WAV format ${formatTag} with ${bitsPerSample} bits`);
      }
      format = { channels: wav.readUInt16LE(body + 2), sampleRate: wav.readUInt32LE(body + 4) };
    } else if (chunkId === 'data') {
      if (!format) throw new Error('WAV data chunk before fmt chunk');
      const end = Math.min(body + chunkSize, wav.length);
      const sampleCount = Math.floor((end - body) / 2);
      const samples = new Int16Array(sampleCount);
      for (let i = 0; i < sampleCount; i++) samples[i] = wav.readInt16LE(body + i * 2);
      return { samples, ...format };
    }
    offset = body + chunkSize + (chunkSize % 2);
  }
  throw new Error('WAV file has no data chunk');
}

/** Root mean square as a fraction of full scale (0 = silence, ~0.7 = full-scale sine). */
export function rms(samples: Int16Array): number {
  if (samples.length === 0) return 0;
  let sumOfSquares = 0;
  for (const sample of samples) sumOfSquares += sample * sample;
  return Math.sqrt(sumOfSquares / samples.length) / 32768;
}
