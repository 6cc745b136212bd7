/**
 * Wire shapes shared by the API, the agent worker, the page and the tests, defined once as zod
 * schemas with inferred types.
 */
import { z } from 'zod';

/** What the API hands the agent job through the LiveKit dispatch. */
export const jobMetadataSchema = z.object({
  sessionId: z.string().min(1),
  instructions: z.string().max(20_000).optional(),
});
export type JobMetadata = z.infer<typeof jobMetadataSchema>;

/** Participant attribute on the agent that carries its turn-taking state. */
export const TURN_STATE_ATTRIBUTE = 'voice-agent.turn_state';

export const errorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
  timestamp: z.string(),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

const shortText = z.string().trim().min(1).max(128);

export const createSessionRequestSchema = z
  .object({
    instructions: z.string().max(20_000).optional(),
    userId: shortText.optional(),
    username: shortText.optional(),
    voice: z.boolean().optional(),
  })
  .strict();
export type CreateSessionRequest = z.infer<typeof createSessionRequestSchema>;

export const createSessionResponseSchema = z.object({
  sessionId: z.string(),
  roomName: z.string(),
  livekitUrl: z.string(),
  participantToken: z.string(),
  participantIdentity: z.string(),
  sessionToken: z.string(),
  eventsUrl: z.string(),
  expiresAt: z.string(),
});
export type CreateSessionResponse = z.infer<typeof createSessionResponseSchema>;

const providerStatusSchema = z.object({
  name: z.string(),
  configured: z.boolean(),
  model: z.string().optional(),
});

export const healthResponseSchema = z.object({
  status: z.enum(['ok', 'degraded']),
  livekit: z.object({ url: z.string(), reachable: z.boolean() }),
  providers: z.object({
    stt: providerStatusSchema,
    llm: providerStatusSchema,
    tts: providerStatusSchema,
  }),
  store: z.string(),
  version: z.string(),
  uptime_s: z.number(),
  timestamp: z.string(),
});
export type HealthResponse = z.infer<typeof healthResponseSchema>;
