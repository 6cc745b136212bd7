/**
 * Which plugins and adapters the configuration builds, and the retries each stage gets. Nothing
 * here connects anywhere.
 */
import { initializeLogger, llm, stt, tts, type VAD } from '@livekit/agents';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../common/config.js';
import { agentConfigSchema } from './config.js';
import { SpeechCutOffError } from './openai-tts.js';
import { createProviders } from './providers.js';
import { StallGuardedSTT } from './stt-watchdog.js';

const PRIMARY = {
  OPENAI_API_KEY: 'sk-test',
  DEEPGRAM_API_KEY: 'dg-test',
  PROVIDER_MAX_RETRIES: '2',
  PROVIDER_RETRY_INTERVAL_MS: '250',
  PROVIDER_TIMEOUT_MS: '3000',
};
const FALLBACKS = {
  LLM_FALLBACK_BASE_URL: 'http://127.0.0.1:9/v1',
  TTS_FALLBACK_MODEL: 'tts-1',
  STT_FALLBACK_BASE_URL: 'http://127.0.0.1:9/v1',
};
/** The VAD only matters once a fallback STT streams. */
const vad = {} as VAD;

const build = (env: Record<string, string>) =>
  createProviders(loadConfig(agentConfigSchema, env), vad);

describe('createProviders', () => {
  beforeAll(() => initializeLogger({ pretty: false, level: 'silent' }));

  it('guards Deepgram and lets the session retry each stage', () => {
    const providers = build(PRIMARY);
    expect(providers.stt).toBeInstanceOf(StallGuardedSTT);
    expect(providers.llm).not.toBeInstanceOf(llm.FallbackAdapter);
    const retries = { maxRetry: 2, retryIntervalMs: 250, timeoutMs: 3000 };
    expect(providers.connOptions).toEqual({
      sttConnOptions: retries,
      llmConnOptions: retries,
      ttsConnOptions: retries,
    });
  });

  it('wraps a stage with a fallback in the fallback adapter, which retries per provider', () => {
    const providers = build({ ...PRIMARY, ...FALLBACKS });
    expect(providers.stt).toBeInstanceOf(stt.FallbackAdapter);
    expect(providers.llm).toBeInstanceOf(llm.FallbackAdapter);
    expect(providers.tts).toBeInstanceOf(tts.FallbackAdapter);
    expect((providers.llm as llm.FallbackAdapter).maxRetryPerLLM).toBe(0);
    expect((providers.tts as tts.FallbackAdapter).maxRetryPerTTS).toBe(2);
    expect(providers.connOptions.sttConnOptions.maxRetry).toBe(0);
    expect(providers.connOptions.llmConnOptions.maxRetry).toBe(2);
    expect(providers.connOptions.ttsConnOptions.maxRetry).toBe(0);
  });

  it('passes on a TTS provider failure only when its audio had been played', () => {
    const adapter = build({ ...PRIMARY, ...FALLBACKS }).tts as tts.FallbackAdapter;
    const reported: unknown[] = [];
    adapter.on('error', (event) => reported.push(event.error));
    const [primary] = adapter.ttsInstances;
    const failure = (error: Error) => ({
      type: 'tts_error' as const,
      timestamp: Date.now(),
      label: 'openai.TTS',
      error,
      recoverable: false,
    });
    const cutOff = new SpeechCutOffError(new Error('socket closed'));
    primary?.emit('error', failure(new Error('503 from the primary')));
    primary?.emit('error', failure(cutOff));
    expect(reported).toEqual([cutOff]);
  });
});
