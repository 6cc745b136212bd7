/**
 * The fake OpenAI and Deepgram servers of test/providers, started together, with the environment
 * that points the API's LLM, TTS and STT at them. Unit tests start one pair per test, so every
 * test sees fresh recordings, latency and faults.
 */
import { type DeepgramServer, startDeepgramServer } from '../providers/deepgram.js';
import { type OpenAIServer, startOpenAIServer } from '../providers/openai.js';

export interface FakeProviders {
  openai: OpenAIServer;
  deepgram: DeepgramServer;
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startFakeProviders(): Promise<FakeProviders> {
  const [openai, deepgram] = await Promise.all([startOpenAIServer(), startDeepgramServer()]);
  return {
    openai,
    deepgram,
    env: {
      OPENAI_API_KEY: 'test-openai-key',
      LLM_BASE_URL: openai.url,
      TTS_BASE_URL: openai.url,
      DEEPGRAM_API_KEY: 'test-deepgram-key',
      DEEPGRAM_BASE_URL: deepgram.url,
    },
    async close() {
      await Promise.all([openai.close(), deepgram.close()]);
    },
  };
}
