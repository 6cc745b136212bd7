/**
 * Speech in and out for voice messages sent through /api/chat: the upload is checked, then
 * transcribed; the reply is spoken, stored, and served at `/api/voice/<id>`. Provider failures
 * leave here as `ApiError`s with stable codes and our own words.
 */
import { fallbackConfigs } from '../../common/config.js';
import type { ApiConfig } from '../config.js';
import { apiError } from '../errors.js';
import { ProviderError, providerApiError } from '../providers/errors.js';
import type { ProviderClientOptions } from '../providers/http.js';
import { inspectAudio } from './audio-check.js';
import type { VoiceReplies } from './replies.js';
import { createSpeaker, type Speaker } from './speak.js';
import { createTranscriber, type Transcriber } from './transcribe.js';

export interface VoiceMessages {
  /** The words of an uploaded voice message, once its format, size and length pass. */
  transcribe(audio: Blob, signal?: AbortSignal): Promise<string>;
  /** Speaks `text` and returns the path the audio is served at, `/api/voice/<id>`. */
  speak(text: string, signal?: AbortSignal): Promise<string>;
}

export interface VoiceMessagesDeps {
  config: ApiConfig;
  replies: VoiceReplies;
  /** Fetch, timeouts, retries and the warning log of the STT and TTS calls. */
  providers?: ProviderClientOptions;
  transcriber?: Transcriber;
  speaker?: Speaker;
}

/** OpenAI's limit on the input of one /audio/speech request. */
const TTS_MAX_INPUT_CHARS = 4096;

export function createVoiceMessages(deps: VoiceMessagesDeps): VoiceMessages {
  const { config, replies } = deps;
  const fallback = fallbackConfigs(config);
  const transcribers = [
    deps.transcriber ?? createTranscriber(config, deps.providers),
    ...(fallback.stt ? [createTranscriber(fallback.stt, deps.providers)] : []),
  ];
  const speakers = [
    deps.speaker ?? createSpeaker(config, deps.providers),
    ...(fallback.tts ? [createSpeaker(fallback.tts, deps.providers)] : []),
  ];
  const limits = {
    maxBytes: config.VOICE_MESSAGE_MAX_BYTES,
    maxSeconds: config.VOICE_MESSAGE_MAX_SECONDS,
  };
  return {
    async transcribe(audio, signal) {
      // Refused before it is read: the form parser already holds it once.
      if (audio.size > limits.maxBytes) {
        throw apiError(
          413,
          'audio_too_large',
          `The audio is larger than ${limits.maxBytes} bytes.`,
        );
      }
      const bytes = new Uint8Array(await audio.arrayBuffer());
      const { mimeType } = await inspectAudio(bytes, limits);
      const text = await firstThatAnswers(transcribers, (transcriber) =>
        transcriber.transcribe(bytes, mimeType, signal),
      );
      if (text === '') throw apiError(422, 'no_speech', 'No speech was recognized in the audio.');
      return text;
    },
    async speak(text, signal) {
      const reply = await firstThatAnswers(speakers, (speaker) =>
        speaker.speak(spokenPart(text), signal),
      );
      const { id } = await replies.save(reply.audio, reply.mimeType);
      return `/api/voice/${id}`;
    },
  };
}

/**
 * Asks the stage's providers in turn (the first, then its fallback when configured) until one
 * answers; each has already retried what was worth retrying. A provider's failure leaves as an
 * `ApiError` in our words.
 */
async function firstThatAnswers<P, T>(providers: P[], ask: (provider: P) => Promise<T>) {
  for (const [index, provider] of providers.entries()) {
    try {
      return await ask(provider);
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      if (index === providers.length - 1) throw providerApiError(error);
    }
  }
  throw new Error('no provider to ask');
}

/** A reply longer than one TTS request takes is spoken up to its last whole sentence that fits. */
function spokenPart(text: string): string {
  if (text.length <= TTS_MAX_INPUT_CHARS) return text;
  const head = text.slice(0, TTS_MAX_INPUT_CHARS);
  const sentenceEnd = Math.max(
    head.lastIndexOf('. '),
    head.lastIndexOf('! '),
    head.lastIndexOf('? '),
  );
  return sentenceEnd > 0 ? head.slice(0, sentenceEnd + 1) : head;
}
