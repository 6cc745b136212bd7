/**
 * Environment configuration shared by the API and the agent worker: the LiveKit server and the
 * three providers. Each entry point parses it once with `loadConfig` and fails fast, naming the
 * variable that is wrong. Provider settings are allowed to be missing: the worker must still start
 * and report which variable a session lacks (see `describeProviders`).
 */
import { z } from 'zod';

/** Unset and empty variables are the same thing in a shell `.env` file. */
const optional = z.preprocess(
  (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
  z.string().trim().optional(),
);
const withDefault = (fallback: string) => optional.transform((value) => value ?? fallback);
const optionalUrl = optional.refine(
  (value) => value === undefined || URL.canParse(value),
  'must be a URL',
);
const url = (fallback: string) => optionalUrl.transform((value) => value ?? fallback);

export const livekitSchema = z.object({
  LIVEKIT_URL: url('ws://127.0.0.1:7880'),
  LIVEKIT_API_KEY: withDefault('devkey'),
  LIVEKIT_API_SECRET: withDefault('devsecret-change-me-0123456789abcdef'),
  AGENT_NAME: withDefault('voice-agent'),
});

export const providersSchema = z.object({
  DEEPGRAM_API_KEY: optional,
  DEEPGRAM_BASE_URL: url('wss://api.deepgram.com'),
  OPENAI_API_KEY: optional,
  LLM_BASE_URL: optionalUrl,
  LLM_MODEL: withDefault('gpt-4.1-mini'),
  TTS_BASE_URL: optionalUrl,
  TTS_MODEL: withDefault('gpt-4o-mini-tts'),
  TTS_VOICE: withDefault('alloy'),
  STT_BASE_URL: optionalUrl,
  STT_MODEL: withDefault('gpt-4o-mini-transcribe'),
});

export type LivekitConfig = z.infer<typeof livekitSchema>;
export type ProvidersConfig = z.infer<typeof providersSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses `env` with `schema`; the error message names every bad variable. */
export function loadConfig<T extends z.ZodType>(
  schema: T,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<T> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
}

export interface ProviderStatus {
  name: string;
  configured: boolean;
  model?: string;
  /** What to set to make it work, in words a user can act on. */
  missing: string[];
}

export interface ProvidersStatus {
  stt: ProviderStatus;
  llm: ProviderStatus;
  tts: ProviderStatus;
}

/**
 * Which provider each stage uses and what it still needs. A base URL without a key is a valid
 * setup: local OpenAI-compatible servers (LM Studio, Ollama, vLLM) usually take no key.
 */
export function describeProviders(config: ProvidersConfig): ProvidersStatus {
  const openai = (baseURL: string | undefined, model: string, variable: string) => {
    const configured = config.OPENAI_API_KEY !== undefined || baseURL !== undefined;
    return {
      name: baseURL ? 'openai-compatible' : 'openai',
      configured,
      model,
      missing: configured ? [] : [`OPENAI_API_KEY (or ${variable} for a local server)`],
    };
  };
  const stt: ProviderStatus = config.STT_BASE_URL
    ? openai(config.STT_BASE_URL, config.STT_MODEL, 'STT_BASE_URL')
    : {
        name: 'deepgram',
        configured: config.DEEPGRAM_API_KEY !== undefined,
        model: 'nova-3',
        missing: config.DEEPGRAM_API_KEY ? [] : ['DEEPGRAM_API_KEY (or STT_BASE_URL)'],
      };
  return {
    stt,
    llm: openai(config.LLM_BASE_URL, config.LLM_MODEL, 'LLM_BASE_URL'),
    tts: openai(config.TTS_BASE_URL, config.TTS_MODEL, 'TTS_BASE_URL'),
  };
}
