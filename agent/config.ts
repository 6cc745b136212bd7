/**
 * The agent worker's configuration: LiveKit, providers, and the turn-taking knobs. Turn-taking
 * values left unset keep the agents framework's own defaults.
 */
import { z } from 'zod';
import { env, livekitSchema, providersSchema } from '../common/config.js';

export const agentConfigSchema = livekitSchema.extend(providersSchema.shape).extend({
  AGENT_HEALTH_PORT: env.integer(8081, 0, 65_535),
  /**
   * CPU load (0–1) at which the worker stops taking calls, so LiveKit sends them to another
   * worker. With one worker there is no other, so by default (1) it never refuses: a busy call
   * beats a dropped one. Lower it (e.g. 0.8) when several workers share the calls.
   */
  AGENT_LOAD_THRESHOLD: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.coerce.number().gt(0).default(1),
  ),
  /** Where the agent reports session events (the API's ingest). */
  API_URL: env.url('http://127.0.0.1:8000'),
  LOG_LEVEL: env.logLevel,
  /** Trailing silence before the on-device VAD reports the end of speech. */
  VAD_MIN_SILENCE_MS: env.optionalInteger(0, 10_000),
  /** Shortest wait after the end of speech before the agent answers. */
  ENDPOINTING_MIN_DELAY_MS: env.optionalInteger(0, 10_000),
  /** Longest wait when the end-of-turn model thinks the user is not done. */
  ENDPOINTING_MAX_DELAY_MS: env.optionalInteger(0, 10_000),
  /** Start the LLM on the interim transcript, before the turn is over. */
  PREEMPTIVE_GENERATION: env.flag(false),
});

export type AgentConfig = z.infer<typeof agentConfigSchema>;
