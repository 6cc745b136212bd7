/**
 * Builds the STT, LLM and TTS plugins from configuration. All three speak to real provider APIs
 * by default and to any compatible server when a base URL is set (local LLMs, test servers).
 */
import type { llm, stt, tts } from '@livekit/agents';
import * as deepgram from '@livekit/agents-plugin-deepgram';
import * as openai from '@livekit/agents-plugin-openai';
import {
  describeProviders,
  missingSettings,
  openaiApiKey,
  type ProvidersConfig,
} from '../common/config.js';

export interface Providers {
  stt: stt.STT;
  llm: llm.LLM;
  tts: tts.TTS;
}

/** A stage has no key or URL; the message names the variables to set. */
export class MissingProviderError extends Error {
  override name = 'MissingProviderError';
  readonly code = 'provider_not_configured';
  constructor(readonly missing: string[]) {
    super(`Provider configuration missing: set ${missing.join('; ')}`);
  }
}

export function createProviders(config: ProvidersConfig): Providers {
  const missing = missingSettings(describeProviders(config));
  if (missing.length > 0) throw new MissingProviderError(missing);

  const apiKey = openaiApiKey(config);
  return {
    stt: config.STT_BASE_URL
      ? new openai.STT({
          baseURL: config.STT_BASE_URL,
          apiKey,
          model: config.STT_MODEL,
          // Compatible servers offer /audio/transcriptions, not OpenAI's realtime socket.
          useRealtime: false,
        })
      : new deepgram.STT({
          apiKey: config.DEEPGRAM_API_KEY,
          baseUrl: config.DEEPGRAM_BASE_URL,
          model: 'nova-3',
        }),
    llm: new openai.LLM({ baseURL: config.LLM_BASE_URL, apiKey, model: config.LLM_MODEL }),
    tts: new openai.TTS({
      baseURL: config.TTS_BASE_URL,
      apiKey,
      model: config.TTS_MODEL,
      voice: config.TTS_VOICE as openai.TTSOptions['voice'],
    }),
  };
}
