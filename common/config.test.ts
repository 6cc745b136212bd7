import { describe, expect, it } from 'vitest';
import { apiConfigSchema } from '../api/config.js';
import {
  ConfigError,
  describeProviders,
  livekitSchema,
  loadConfig,
  missingSettings,
  providersSchema,
} from './config.js';

const sharedSchema = livekitSchema.extend(providersSchema.shape);

const SHARED_DEFAULTS = {
  LIVEKIT_URL: 'ws://127.0.0.1:7880',
  LIVEKIT_API_KEY: 'devkey',
  LIVEKIT_API_SECRET: 'devsecret-change-me-0123456789abcdef',
  AGENT_NAME: 'voice-agent',
  DEEPGRAM_BASE_URL: 'wss://api.deepgram.com',
  LLM_MODEL: 'gpt-4.1-mini',
  TTS_MODEL: 'gpt-4o-mini-tts',
  TTS_VOICE: 'alloy',
  STT_MODEL: 'gpt-4o-mini-transcribe',
};

describe('loadConfig', () => {
  it('fails fast naming a variable that is not a URL', () => {
    const load = () => loadConfig(apiConfigSchema, { LIVEKIT_URL: 'not a url' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow('Invalid configuration: LIVEKIT_URL: must be a URL');
  });

  it('fails fast naming a port that is not a number', () => {
    expect(() => loadConfig(apiConfigSchema, { API_PORT: 'abc' })).toThrow(
      /^Invalid configuration: API_PORT: /,
    );
  });

  it('names every bad variable at once', () => {
    const env = { LIVEKIT_URL: 'nope', LLM_BASE_URL: 'localhost 1234', API_PORT: '70000' };
    expect(() => loadConfig(apiConfigSchema, env)).toThrow(
      /LIVEKIT_URL: must be a URL; LLM_BASE_URL: must be a URL; API_PORT: /,
    );
  });

  it('applies the defaults when nothing is set', () => {
    expect(loadConfig(sharedSchema, {})).toStrictEqual(SHARED_DEFAULTS);
    expect(loadConfig(apiConfigSchema, {})).toMatchObject({
      API_PORT: 8000,
      API_HOST: '127.0.0.1',
      API_KEYS: [],
      CORS_ORIGINS: [],
      LOG_LEVEL: 'info',
      PARTICIPANT_TOKEN_TTL_S: 900,
      SESSION_TOKEN_TTL_S: 14_400,
      SESSION_RETENTION_DAYS: 30,
    });
  });

  it('takes SESSION_RETENTION_DAYS from 0 (for ever) and refuses what is not a day count', () => {
    expect(loadConfig(apiConfigSchema, { SESSION_RETENTION_DAYS: '0' })).toMatchObject({
      SESSION_RETENTION_DAYS: 0,
    });
    for (const value of ['-1', '1.5', 'a month']) {
      expect(() => loadConfig(apiConfigSchema, { SESSION_RETENTION_DAYS: value })).toThrow(
        /^Invalid configuration: SESSION_RETENTION_DAYS: /,
      );
    }
  });

  it('treats empty and blank values as unset, as a copied .env file has them', () => {
    const env = {
      LIVEKIT_URL: '',
      LIVEKIT_API_KEY: '  ',
      DEEPGRAM_API_KEY: '',
      DEEPGRAM_BASE_URL: '',
      OPENAI_API_KEY: ' ',
      LLM_BASE_URL: '',
      LLM_MODEL: '',
      TTS_BASE_URL: '',
      STT_BASE_URL: '',
    };
    // toEqual: the emptied optional keys come back present but undefined.
    expect(loadConfig(sharedSchema, env)).toEqual(SHARED_DEFAULTS);
  });

  it('trims the values it keeps', () => {
    const config = loadConfig(sharedSchema, { OPENAI_API_KEY: ' sk-test\n', LLM_MODEL: ' qwen3 ' });
    expect(config).toMatchObject({ OPENAI_API_KEY: 'sk-test', LLM_MODEL: 'qwen3' });
  });
});

const describeEnv = (env: NodeJS.ProcessEnv) => describeProviders(loadConfig(providersSchema, env));

describe('describeProviders', () => {
  it('names what each stage lacks when nothing is set', () => {
    expect(describeEnv({})).toStrictEqual({
      stt: {
        name: 'deepgram',
        configured: false,
        model: 'nova-3',
        missing: { variable: 'DEEPGRAM_API_KEY', alternative: 'STT_BASE_URL' },
      },
      llm: {
        name: 'openai',
        configured: false,
        model: 'gpt-4.1-mini',
        missing: { variable: 'OPENAI_API_KEY', alternative: 'LLM_BASE_URL' },
      },
      tts: {
        name: 'openai',
        configured: false,
        model: 'gpt-4o-mini-tts',
        missing: { variable: 'OPENAI_API_KEY', alternative: 'TTS_BASE_URL' },
      },
    });
  });

  it('configures the LLM and the TTS on OpenAI with OPENAI_API_KEY alone', () => {
    const status = describeEnv({ OPENAI_API_KEY: 'sk-test' });
    expect(status.llm).toStrictEqual({
      name: 'openai',
      configured: true,
      model: 'gpt-4.1-mini',
    });
    expect(status.tts).toStrictEqual({
      name: 'openai',
      configured: true,
      model: 'gpt-4o-mini-tts',
    });
    expect(status.stt).toMatchObject({ name: 'deepgram', configured: false });
  });

  it('configures a keyless local LLM server with LLM_BASE_URL alone, and only the LLM', () => {
    const status = describeEnv({ LLM_BASE_URL: 'http://127.0.0.1:1234/v1', LLM_MODEL: 'qwen3' });
    expect(status.llm).toStrictEqual({
      name: 'openai-compatible',
      configured: true,
      model: 'qwen3',
    });
    expect(status.tts).toMatchObject({ name: 'openai', configured: false });
    expect(status.stt).toMatchObject({ name: 'deepgram', configured: false });
  });

  it('uses an OpenAI-compatible STT server instead of Deepgram when STT_BASE_URL is set', () => {
    const status = describeEnv({
      STT_BASE_URL: 'http://127.0.0.1:8080/v1',
      STT_MODEL: 'whisper-1',
    });
    expect(status.stt).toStrictEqual({
      name: 'openai-compatible',
      configured: true,
      model: 'whisper-1',
    });
  });

  it('configures Deepgram STT with DEEPGRAM_API_KEY', () => {
    expect(describeEnv({ DEEPGRAM_API_KEY: 'dg-test' }).stt).toStrictEqual({
      name: 'deepgram',
      configured: true,
      model: 'nova-3',
    });
  });
});

describe('missingSettings', () => {
  it("names each variable once, with every stage's alternative", () => {
    expect(missingSettings(describeEnv({}))).toStrictEqual([
      'DEEPGRAM_API_KEY (or STT_BASE_URL)',
      'OPENAI_API_KEY (or LLM_BASE_URL, TTS_BASE_URL)',
    ]);
  });

  it('is empty when every stage is configured', () => {
    expect(missingSettings(describeEnv({ OPENAI_API_KEY: 'k', DEEPGRAM_API_KEY: 'd' }))).toEqual(
      [],
    );
  });
});

describe('apiConfigSchema in production', () => {
  const production = {
    NODE_ENV: 'production',
    LIVEKIT_API_SECRET: 'a-real-secret-0123456789abcdef',
  };

  it('refuses the public development secret and a missing API_KEYS', () => {
    expect(() => loadConfig(apiConfigSchema, { NODE_ENV: 'production' })).toThrow(
      /LIVEKIT_API_SECRET: the development secret.*API_KEYS: required in production/,
    );
  });

  it('starts with a real secret and API keys', () => {
    expect(loadConfig(apiConfigSchema, { ...production, API_KEYS: 'k1, k2' }).API_KEYS).toEqual([
      'k1',
      'k2',
    ]);
  });
});
