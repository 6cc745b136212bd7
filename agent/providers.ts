/**
 * Builds the STT, LLM and TTS plugins from configuration. All three speak to real provider APIs
 * by default and to any compatible server when a base URL is set (local LLMs, test servers).
 * A stage with a fallback provider configured gets the framework's fallback adapter; the retries
 * and timeouts each stage's requests get are decided here too, since they depend on it.
 */
import {
  type APIConnectOptions,
  llm,
  log,
  type SessionConnectOptions,
  stt,
  tts,
  type VAD,
} from '@livekit/agents';
import * as deepgram from '@livekit/agents-plugin-deepgram';
import * as openai from '@livekit/agents-plugin-openai';
import {
  describeProviders,
  fallbackConfigs,
  missingSettings,
  openaiApiKey,
  type ProvidersConfig,
} from '../common/config.js';
import type { AgentConfig } from './config.js';
import { OpenAITTS, SpeechCutOffError } from './openai-tts.js';
import { StallGuardedSTT } from './stt-watchdog.js';

/** How often a failed TTS provider is tried again (a short synthesis) until it answers. */
const TTS_RECOVERY_PROBE_INTERVAL_MS = 5000;

export interface Providers {
  stt: stt.STT;
  llm: llm.LLM;
  tts: tts.TTS;
  /** Retries and timeouts of each stage's requests, for the session. */
  connOptions: Required<Omit<SessionConnectOptions, 'maxUnrecoverableErrors'>>;
  /** Tells the STT watchdog when the user speaks (the session's VAD). */
  userSpeaking(speaking: boolean): void;
}

export type ProviderSettings = ProvidersConfig &
  Pick<
    AgentConfig,
    | 'PROVIDER_TIMEOUT_MS'
    | 'PROVIDER_MAX_RETRIES'
    | 'PROVIDER_RETRY_INTERVAL_MS'
    | 'STT_STALL_TIMEOUT_MS'
  >;

/** A stage has no key or URL; the message names the variables to set. */
export class MissingProviderError extends Error {
  override name = 'MissingProviderError';
  readonly code = 'provider_not_configured';
  constructor(readonly missing: string[]) {
    super(`Provider configuration missing: set ${missing.join('; ')}`);
  }
}

/** `vad` turns a non-streaming fallback STT into a streaming one. */
export function createProviders(config: ProviderSettings, vad: VAD): Providers {
  const missing = missingSettings(describeProviders(config));
  if (missing.length > 0) throw new MissingProviderError(missing);

  const fallback = fallbackConfigs(config);
  const retries: APIConnectOptions = {
    maxRetry: config.PROVIDER_MAX_RETRIES,
    retryIntervalMs: config.PROVIDER_RETRY_INTERVAL_MS,
    timeoutMs: config.PROVIDER_TIMEOUT_MS,
  };

  const guardedDeepgram = config.STT_BASE_URL
    ? undefined
    : new StallGuardedSTT(
        new deepgram.STT({
          apiKey: config.DEEPGRAM_API_KEY,
          baseUrl: config.DEEPGRAM_BASE_URL,
          model: 'nova-3',
        }),
        config.STT_STALL_TIMEOUT_MS,
      );
  const primaryStt = guardedDeepgram ?? openaiStt(config);
  const primaryLlm = openaiLlm(config);
  const primaryTts = openaiTts(config);

  return {
    // Where an adapter retries each provider before the next, the session does not retry the
    // whole chain again.
    stt: fallback.stt
      ? new stt.FallbackAdapter({
          sttInstances: [primaryStt, openaiStt(fallback.stt)],
          vad,
          attemptTimeoutMs: retries.timeoutMs,
          maxRetryPerSTT: retries.maxRetry,
          retryIntervalMs: retries.retryIntervalMs,
        })
      : primaryStt,
    // The LLM adapter is the exception: it keeps the error of an attempt its provider retried,
    // so a retry that succeeds still fails the reply. Its providers get one attempt each, and
    // the session retries the chain.
    llm: fallback.llm
      ? new llm.FallbackAdapter({
          llms: [primaryLlm, openaiLlm(fallback.llm)],
          attemptTimeout: retries.timeoutMs / 1000,
          maxRetryPerLLM: 0,
          retryInterval: retries.retryIntervalMs / 1000,
        })
      : primaryLlm,
    tts: fallback.tts
      ? reportOwnFailures(
          new tts.FallbackAdapter({
            ttsInstances: [primaryTts, openaiTts(fallback.tts)],
            maxRetryPerTTS: retries.maxRetry,
            recoveryDelayMs: TTS_RECOVERY_PROBE_INTERVAL_MS,
          }),
        )
      : primaryTts,
    connOptions: {
      sttConnOptions: { ...retries, maxRetry: fallback.stt ? 0 : retries.maxRetry },
      llmConnOptions: retries,
      ttsConnOptions: { ...retries, maxRetry: fallback.tts ? 0 : retries.maxRetry },
    },
    userSpeaking: (speaking) => guardedDeepgram?.userSpeaking(speaking),
  };
}

/** The stages' OpenAI-compatible providers, as a config describes them (first or fallback). */
function openaiStt(config: ProvidersConfig): stt.STT {
  const { STT_BASE_URL: baseURL, STT_MODEL: model } = config;
  // Compatible servers offer /audio/transcriptions, not OpenAI's realtime socket.
  return new openai.STT({ baseURL, apiKey: openaiApiKey(config), model, useRealtime: false });
}

function openaiLlm(config: ProvidersConfig): llm.LLM {
  const { LLM_BASE_URL: baseURL, LLM_MODEL: model } = config;
  return new openai.LLM({ baseURL, apiKey: openaiApiKey(config), model });
}

function openaiTts(config: ProvidersConfig): tts.TTS {
  const { TTS_BASE_URL: baseURL, TTS_MODEL: model, TTS_VOICE: voice } = config;
  return new OpenAITTS({ baseURL, apiKey: openaiApiKey(config), model, voice });
}

/**
 * The TTS adapter passes on every failure of its providers, also those its fallback then made
 * good; the STT and LLM adapters report only their own. Made alike here: a provider's failure
 * reaches the session only when audio had already been played (no fallback can mend that).
 */
function reportOwnFailures(adapter: tts.FallbackAdapter): tts.FallbackAdapter {
  for (const provider of adapter.ttsInstances) {
    provider.removeAllListeners('error');
    provider.on('error', (event) => {
      if (event.error instanceof SpeechCutOffError) adapter.emit('error', event);
      else log().warn({ tts: provider.label, error: event.error }, 'TTS provider failed');
    });
  }
  return adapter;
}
