/**
 * The agent worker's configuration: LiveKit, providers, turn taking and provider faults. Turn-taking
 * values left unset keep the agents framework's own defaults.
 */
import { z } from 'zod';
import {
  env,
  livekitSchema,
  providersSchema,
  refineToolsConfig,
  toolsSchema,
} from '../common/config.js';

export const agentConfigSchema = livekitSchema
  .extend(providersSchema.shape)
  .extend(toolsSchema.shape)
  .extend({
    AGENT_HEALTH_PORT: env.integer(8081, 0, 65_535),
    /**
     * Calls the worker takes at most (0: no set capacity). When set, the load it reports is its
     * calls ÷ this instead of the machine's CPU, and it is full at this many.
     */
    AGENT_MAX_CALLS: env.integer(0, 0, 10_000),
    /**
     * Load (0–1: CPU, or calls ÷ AGENT_MAX_CALLS) at which the worker stops taking calls, so
     * LiveKit sends them to another worker. With one worker there is no other, so by default (1)
     * it never refuses: a busy call beats a dropped one. Lower it (e.g. 0.8) when several workers
     * share the calls.
     */
    AGENT_LOAD_THRESHOLD: z.preprocess(
      (value) => (value === '' ? undefined : value),
      z.coerce.number().gt(0).default(1),
    ),
    /**
     * On SIGTERM the worker takes no new calls and lets running ones end, for at most this long;
     * then it shuts them down (their sessions end) and exits.
     */
    AGENT_DRAIN_TIMEOUT_S: env.integer(600, 1, 24 * 3600),
    /**
     * Calls one job process holds. 1: a process per call (the framework's own pool). More: calls
     * share processes (agent/multi-job/), which saves each call a process's memory and the native
     * WebRTC stack's idle CPU; a crash of a process ends all of its calls (the API replaces them).
     * 4 by default: per call about half the CPU and a quarter of the memory of 1 (README, Performance).
     */
    AGENT_JOBS_PER_PROCESS: env.integer(4, 1, 32),
    /** Where the agent reports session events (the API's ingest). */
    API_URL: env.url('http://127.0.0.1:8000'),
    LOG_LEVEL: env.logLevel,
    /**
     * Trailing silence before the on-device VAD reports the end of speech. The audio end-of-turn
     * model needs at least 250 ms (the framework refuses less), which is also the default.
     */
    VAD_MIN_SILENCE_MS: env.optionalInteger(250, 10_000),
    /** Shortest wait after the end of speech before the agent answers. */
    ENDPOINTING_MIN_DELAY_MS: env.optionalInteger(0, 10_000),
    /** Longest wait when the end-of-turn model thinks the user is not done. */
    ENDPOINTING_MAX_DELAY_MS: env.optionalInteger(0, 10_000),
    /** Start the LLM on the interim transcript, before the turn is over. */
    PREEMPTIVE_GENERATION: env.flag(false),
    /**
     * Provider faults. An LLM or TTS request whose answer has not started within the timeout
     * fails; a retryable failure (network, timeout, 408, 429, 5xx) is retried up to
     * PROVIDER_MAX_RETRIES times, the first after 0.1 s and the others after
     * PROVIDER_RETRY_INTERVAL_MS, before the fallback provider (if any) is tried.
     */
    PROVIDER_TIMEOUT_MS: env.integer(10_000, 100, 300_000),
    PROVIDER_MAX_RETRIES: env.integer(2, 0, 10),
    PROVIDER_RETRY_INTERVAL_MS: env.integer(1000, 0, 60_000),
    /** Consecutive turns the providers could not answer before the call is ended. */
    MAX_FAILED_TURNS: env.integer(3, 1, 100),
    /**
     * Streaming STT that sends nothing for this long while the user speaks is taken for a dead
     * connection: it is reconnected and the unanswered speech sent again.
     */
    STT_STALL_TIMEOUT_MS: env.integer(3000, 500, 60_000),
    /**
     * While a tool runs in a call, the agent says TOOL_FILLER_TEXT once it has waited this long for
     * the result (0: never).
     */
    TOOL_FILLER_AFTER_MS: env.integer(1500, 0, 60_000),
    TOOL_FILLER_TEXT: env.text('One moment, please.'),
  })
  .superRefine(refineToolsConfig);

export type AgentConfig = z.infer<typeof agentConfigSchema>;
