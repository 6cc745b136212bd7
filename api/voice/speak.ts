/**
 * Text to speech for voice replies: one OpenAI-compatible `/audio/speech` request for the whole
 * reply, in a format every browser's <audio> plays. The reply is labelled by what its bytes are,
 * not by what was asked for, since compatible servers do not all honour `response_format`.
 */
import { openaiApiKey, type ProvidersConfig } from '../../common/config.js';
import { apiError } from '../errors.js';
import { ProviderError } from '../providers/errors.js';
import { createProviderCall, type ProviderClientOptions } from '../providers/http.js';
import { audioMimeTypes, detectAudioFormat } from './audio-check.js';

export type ReplyFormat = 'wav' | 'mp3';

export interface SpokenReply {
  audio: Uint8Array;
  mimeType: string;
}

export interface Speaker {
  speak(text: string, signal?: AbortSignal): Promise<SpokenReply>;
}

const OPENAI_BASE_URL = 'https://api.openai.com/v1';

export function createSpeaker(
  config: ProvidersConfig & { VOICE_REPLY_FORMAT: ReplyFormat },
  options: ProviderClientOptions = {},
): Speaker {
  const call = createProviderCall('tts', options);
  const url = `${(config.TTS_BASE_URL ?? OPENAI_BASE_URL).replace(/\/+$/, '')}/audio/speech`;
  const readAudio = async (response: Response): Promise<SpokenReply> => {
    const audio = new Uint8Array(await response.arrayBuffer());
    const { format } = await detectAudioFormat(audio);
    if (!format) {
      throw new ProviderError('tts', 'The tts provider sent something other than audio.', {
        status: response.status,
        retryable: false,
      });
    }
    return { audio, mimeType: audioMimeTypes[format] };
  };
  return {
    async speak(text, signal) {
      if (!config.OPENAI_API_KEY && !config.TTS_BASE_URL) {
        throw apiError(
          503,
          'provider_not_configured',
          'No text-to-speech configured: set OPENAI_API_KEY or TTS_BASE_URL.',
        );
      }
      const body = JSON.stringify({
        model: config.TTS_MODEL,
        voice: config.TTS_VOICE,
        input: text,
        response_format: config.VOICE_REPLY_FORMAT,
      });
      const headers = {
        authorization: `Bearer ${openaiApiKey(config)}`,
        'content-type': 'application/json',
      };
      return call(url, { method: 'POST', headers, body }, readAudio, signal);
    },
  };
}
