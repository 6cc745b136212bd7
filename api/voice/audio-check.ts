/**
 * Checks an uploaded voice message before anything is spent on it: the format comes from the
 * bytes (magic numbers, then a parse of the container), never from the file name or the declared
 * type, and the duration is measured. Every refusal is an `ApiError` with a stable code.
 */
import { fileTypeFromBuffer } from 'file-type';
import { parseBuffer } from 'music-metadata';
import { apiError } from '../errors.js';
import { webmDurationMs } from './webm-duration.js';

export type AudioFormat = 'webm' | 'ogg' | 'wav' | 'mp3' | 'm4a';

/** The type each format is labelled with towards providers and browsers. */
export const audioMimeTypes: Record<AudioFormat, string> = {
  webm: 'audio/webm',
  ogg: 'audio/ogg',
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
};

/**
 * file-type's names for them: Ogg Opus (Firefox's recorder) is `opus`, and the MP4 audio of
 * Safari's recorder has a generic brand, so it is `mp4`.
 */
const formatsByDetectedName: Record<string, AudioFormat> = {
  webm: 'webm',
  ogg: 'ogg',
  oga: 'ogg',
  opus: 'ogg',
  wav: 'wav',
  mp3: 'mp3',
  m4a: 'm4a',
  mp4: 'm4a',
};

export interface AudioLimits {
  maxBytes: number;
  maxSeconds: number;
}

export interface InspectedAudio {
  format: AudioFormat;
  mimeType: string;
  durationMs: number;
}

export interface DetectedAudio {
  /** Undefined when the bytes are not audio in one of the accepted formats. */
  format: AudioFormat | undefined;
  /** What the bytes are, when recognized at all (`application/pdf`, `audio/flac`, ...). */
  detectedType: string | undefined;
}

export async function detectAudioFormat(bytes: Uint8Array): Promise<DetectedAudio> {
  const detected = await fileTypeFromBuffer(bytes);
  return { format: detected && formatsByDetectedName[detected.ext], detectedType: detected?.mime };
}

export async function inspectAudio(
  bytes: Uint8Array,
  limits: AudioLimits,
): Promise<InspectedAudio> {
  if (bytes.length === 0) throw apiError(400, 'audio_required', 'The voice message has no audio.');
  if (bytes.length > limits.maxBytes) {
    throw apiError(413, 'audio_too_large', `The audio is larger than ${limits.maxBytes} bytes.`);
  }
  const { format, detectedType } = await detectAudioFormat(bytes);
  if (!format) {
    const what = detectedType ? `${detectedType} is not supported` : 'The file is not audio';
    throw apiError(415, 'unsupported_audio', `${what}; send webm, ogg, wav, mp3 or m4a audio.`);
  }
  const mimeType = audioMimeTypes[format];
  const durationMs = await measureDurationMs(bytes, format);
  if (durationMs === undefined) {
    throw apiError(400, 'audio_unreadable', `The ${format} audio is damaged or has no sound.`);
  }
  if (durationMs > limits.maxSeconds * 1000) {
    throw apiError(422, 'audio_too_long', `The audio is longer than ${limits.maxSeconds} s.`);
  }
  return { format, mimeType, durationMs };
}

/** Undefined when the container does not parse, has no audio track, or lasts no time at all. */
async function measureDurationMs(bytes: Uint8Array, format: AudioFormat) {
  try {
    const { format: found } = await parseBuffer(
      bytes,
      { mimeType: audioMimeTypes[format], size: bytes.length },
      { duration: true, skipCovers: true },
    );
    if (found.hasAudio === false) return undefined;
    const durationMs =
      found.duration !== undefined
        ? found.duration * 1000
        : format === 'webm'
          ? webmDurationMs(bytes)
          : undefined;
    return durationMs !== undefined && Number.isFinite(durationMs) && durationMs > 0
      ? durationMs
      : undefined;
  } catch {
    return undefined;
  }
}
