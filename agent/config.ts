/**
 * The agent worker's configuration: LiveKit, providers, and the turn-taking knobs. Turn-taking
 * values left unset keep the agents framework's own defaults.
 */
import { z } from 'zod';
import { livekitSchema, providersSchema } from '../common/config.js';

const optionalMs = z.preprocess(
  (value) => (value === '' ? undefined : value),
  z.coerce.number().int().min(0).max(10_000).optional(),
);

export const agentConfigSchema = livekitSchema.extend(providersSchema.shape).extend({
  AGENT_HEALTH_PORT: z.coerce.number().int().min(0).max(65_535).default(8081),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
  /** Trailing silence before the on-device VAD reports the end of speech. */
  VAD_MIN_SILENCE_MS: optionalMs,
  /** Shortest wait after the end of speech before the agent answers. */
  ENDPOINTING_MIN_DELAY_MS: optionalMs,
  /** Longest wait when the end-of-turn model thinks the user is not done. */
  ENDPOINTING_MAX_DELAY_MS: optionalMs,
  /** Start the LLM on the interim transcript, before the turn is over. */
  PREEMPTIVE_GENERATION: z
    .enum(['true', 'false', '1', '0'])
    .optional()
    .transform((value) => value === 'true' || value === '1'),
});

export type AgentConfig = z.infer<typeof agentConfigSchema>;
