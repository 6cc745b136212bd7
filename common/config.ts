/**
 * Environment configuration shared by the API and the agent worker: the LiveKit server and the
 * three providers. Each entry point parses it once with `loadConfig` and fails fast, naming the
 * variable that is wrong. Provider settings are allowed to be missing: the worker must still start
 * and report which variable a session lacks (see `describeProviders`).
 */
import { z } from 'zod';

/** Unset and empty variables are the same thing in a shell `.env` file. */
const blankIsUnset = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const optional = z.preprocess(blankIsUnset, z.string().trim().optional());
const withDefault = (fallback: string) => optional.transform((value) => value ?? fallback);
const optionalUrl = optional.refine(
  (value) => value === undefined || URL.canParse(value),
  'must be a URL',
);
const url = (fallback: string) => optionalUrl.transform((value) => value ?? fallback);

/** Field builders for environment schemas: every one treats an empty value as unset. */
export const env = {
  text: withDefault,
  optionalText: optional,
  url,
  optionalUrl,
  integer: (fallback: number, min: number, max: number) =>
    z.preprocess(blankIsUnset, z.coerce.number().int().min(min).max(max).default(fallback)),
  optionalInteger: (min: number, max: number) =>
    z.preprocess(blankIsUnset, z.coerce.number().int().min(min).max(max).optional()),
  flag: (fallback: boolean) =>
    z.preprocess(
      blankIsUnset,
      z
        .enum(['true', 'false', '1', '0'])
        .optional()
        .transform((value) => (value === undefined ? fallback : value === 'true' || value === '1')),
    ),
  /** Comma-separated values. */
  list: optional.transform((value) =>
    (value ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  ),
  logLevel: z.preprocess(
    blankIsUnset,
    z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
  ),
};

/** The dev server's secret from livekit.yaml: public, so never acceptable in production. */
export const DEV_LIVEKIT_SECRET = 'devsecret-change-me-0123456789abcdef';

export const livekitSchema = z.object({
  LIVEKIT_URL: url('ws://127.0.0.1:7880'),
  LIVEKIT_API_KEY: withDefault('devkey'),
  LIVEKIT_API_SECRET: withDefault(DEV_LIVEKIT_SECRET),
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
  /*
   * A second, OpenAI-compatible provider per stage, used when the first one fails (the agent's
   * fallback adapters). A stage has one when its base URL or model is set; the model defaults to
   * the first provider's, the key to OPENAI_API_KEY.
   */
  LLM_FALLBACK_BASE_URL: optionalUrl,
  LLM_FALLBACK_MODEL: optional,
  LLM_FALLBACK_API_KEY: optional,
  TTS_FALLBACK_BASE_URL: optionalUrl,
  TTS_FALLBACK_MODEL: optional,
  TTS_FALLBACK_VOICE: optional,
  TTS_FALLBACK_API_KEY: optional,
  STT_FALLBACK_BASE_URL: optionalUrl,
  STT_FALLBACK_MODEL: optional,
  STT_FALLBACK_API_KEY: optional,
});

/** Tools the agent may call (README, Tools), read by the API (text chat) and the worker (calls). */
export const toolsSchema = z.object({
  /** HTTP tools for every session: `{ tools: [...] }` in JSON or YAML. */
  TOOLS_FILE: optional,
  /**
   * Signs every HTTP tool call (HMAC-SHA256). Unset, calls go unsigned: allowed outside production
   * only, where HTTP tools need it.
   */
  TOOLS_SIGNING_SECRET: optional,
  /** MCP servers whose tools the agent may call: streamable-HTTP URLs, or a JSON array. */
  MCP_SERVERS: optional,
  NODE_ENV: withDefault('development'),
});
export type ToolsConfig = z.infer<typeof toolsSchema>;

/** In production an HTTP tool call must be signed: a TOOLS_FILE needs TOOLS_SIGNING_SECRET. */
export function refineToolsConfig(config: ToolsConfig, ctx: z.RefinementCtx) {
  if (config.NODE_ENV === 'production' && config.TOOLS_FILE && !config.TOOLS_SIGNING_SECRET) {
    ctx.addIssue({
      code: 'custom',
      path: ['TOOLS_SIGNING_SECRET'],
      message: 'required in production when TOOLS_FILE is set',
    });
  }
}

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

/**
 * The key for OpenAI-compatible calls. Local servers take no key, but OpenAI clients insist on
 * one; this placeholder is sent only when a base URL is set and no key is.
 */
export const openaiApiKey = (config: ProvidersConfig) => config.OPENAI_API_KEY ?? 'no-key';

/** OpenAI's API: where an OpenAI-compatible stage without a base URL sends its requests. */
export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

/**
 * The second provider of each stage that has one (its base URL or model is set), as a config in
 * which it is that stage's first provider, so a fallback is built exactly like a first provider.
 * Fallbacks are OpenAI-compatible; the model defaults to the first provider's, the key to
 * OPENAI_API_KEY.
 */
export function fallbackConfigs<C extends ProvidersConfig>(config: C) {
  const fallbacks: Partial<Record<'stt' | 'llm' | 'tts', C>> = {};
  const key = (own: string | undefined) => ({ OPENAI_API_KEY: own ?? config.OPENAI_API_KEY });
  if (config.STT_FALLBACK_BASE_URL || config.STT_FALLBACK_MODEL) {
    fallbacks.stt = {
      ...config,
      ...key(config.STT_FALLBACK_API_KEY),
      STT_BASE_URL: config.STT_FALLBACK_BASE_URL ?? OPENAI_BASE_URL,
      STT_MODEL: config.STT_FALLBACK_MODEL ?? config.STT_MODEL,
    };
  }
  if (config.LLM_FALLBACK_BASE_URL || config.LLM_FALLBACK_MODEL) {
    fallbacks.llm = {
      ...config,
      ...key(config.LLM_FALLBACK_API_KEY),
      LLM_BASE_URL: config.LLM_FALLBACK_BASE_URL ?? OPENAI_BASE_URL,
      LLM_MODEL: config.LLM_FALLBACK_MODEL ?? config.LLM_MODEL,
    };
  }
  if (config.TTS_FALLBACK_BASE_URL || config.TTS_FALLBACK_MODEL) {
    fallbacks.tts = {
      ...config,
      ...key(config.TTS_FALLBACK_API_KEY),
      TTS_BASE_URL: config.TTS_FALLBACK_BASE_URL ?? OPENAI_BASE_URL,
      TTS_MODEL: config.TTS_FALLBACK_MODEL ?? config.TTS_MODEL,
      TTS_VOICE: config.TTS_FALLBACK_VOICE ?? config.TTS_VOICE,
    };
  }
  return fallbacks;
}

/** A stage's missing setting: the variable, or the base URL of a server that needs none. */
export interface MissingSetting {
  variable: string;
  alternative: string;
}

export interface ProviderStatus {
  name: string;
  configured: boolean;
  model?: string;
  missing?: MissingSetting;
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
  const openai = (baseURL: string | undefined, model: string, alternative: string) => {
    const configured = config.OPENAI_API_KEY !== undefined || baseURL !== undefined;
    return {
      name: baseURL ? 'openai-compatible' : 'openai',
      configured,
      model,
      ...(!configured && { missing: { variable: 'OPENAI_API_KEY', alternative } }),
    };
  };
  const deepgramConfigured = config.DEEPGRAM_API_KEY !== undefined;
  const stt: ProviderStatus = config.STT_BASE_URL
    ? openai(config.STT_BASE_URL, config.STT_MODEL, 'STT_BASE_URL')
    : {
        name: 'deepgram',
        configured: deepgramConfigured,
        model: 'nova-3',
        ...(!deepgramConfigured && {
          missing: { variable: 'DEEPGRAM_API_KEY', alternative: 'STT_BASE_URL' },
        }),
      };
  return {
    stt,
    llm: openai(config.LLM_BASE_URL, config.LLM_MODEL, 'LLM_BASE_URL'),
    tts: openai(config.TTS_BASE_URL, config.TTS_MODEL, 'TTS_BASE_URL'),
  };
}

/** What to set, one entry per variable: `OPENAI_API_KEY (or LLM_BASE_URL, TTS_BASE_URL)`. */
export function missingSettings(status: ProvidersStatus): string[] {
  const alternatives = new Map<string, string[]>();
  for (const { missing } of [status.stt, status.llm, status.tts]) {
    if (!missing) continue;
    alternatives.set(missing.variable, [
      ...(alternatives.get(missing.variable) ?? []),
      missing.alternative,
    ]);
  }
  return [...alternatives].map(([variable, others]) => `${variable} (or ${others.join(', ')})`);
}
