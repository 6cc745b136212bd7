/**
 * Wire shapes shared by the API, the agent worker, the page and the tests, defined once as zod
 * schemas with inferred types.
 */
import { z } from 'zod';
import { PAGE_SESSION_MODES } from './call-page.js';
import { httpToolListSchema } from './tools/declarations.js';

/** What the API hands the agent job through the LiveKit dispatch. */
export const jobMetadataSchema = z.object({
  sessionId: z.string().min(1),
  instructions: z.string().max(20_000).optional(),
  /** The session's own HTTP tools (the configured ones the worker reads itself). */
  tools: httpToolListSchema.optional(),
  /** Lets the job append to this session's event log, and nothing else. */
  ingestToken: z.string().min(1),
});
export type JobMetadata = z.infer<typeof jobMetadataSchema>;

/** Where LiveKit posts its webhooks on the API (signed; see api/routes/webhook.ts). */
export const LIVEKIT_WEBHOOK_PATH = '/api/livekit/webhook';

/**
 * `error` codes that mean a call has no agent now: the API's (one left unexpectedly, none joined
 * in time, none could be sent) and the agent's own (it lost its connection to the call). The
 * session is not live after one, until an agent starts again.
 */
export const NO_AGENT_ERRORS = [
  'agent_lost',
  'agent_missing',
  'agent_unavailable',
  'agent_disconnected',
] as const;
export type NoAgentError = (typeof NO_AGENT_ERRORS)[number];

/*
 * The closed sets of codes and reasons. Events keep whatever string the agent sent (a newer agent
 * may know more), but a metric label or a documented enum takes only these: anything else is
 * `other`, so what an ingest sends cannot grow the set of series.
 */

/** `error` event codes: the agent's (a provider, a tool, its reporter) and the API's. */
export const SESSION_ERROR_CODES = [
  ...NO_AGENT_ERRORS,
  'provider_not_configured',
  'stt_unavailable',
  'llm_unavailable',
  'tts_unavailable',
  'tool_failed',
  'events_dropped',
] as const;

/** `session_ended` reasons: the API's, and the agent's (the framework's close reasons). */
export const SESSION_END_REASONS = [
  'ended_by_client',
  'idle_timeout',
  'livekit_unavailable',
  'provider_failures',
  'room_disconnected',
  'participant_disconnected',
  'user_initiated',
  'job_shutdown',
  'error',
] as const;

/** `error.code` of the API's JSON errors. */
export const API_ERROR_CODES = [
  'invalid_request',
  'unsupported_media_type',
  'request_too_large',
  'method_not_allowed',
  'not_found',
  'api_key_required',
  'invalid_api_key',
  'invalid_page_ticket',
  'origin_not_allowed',
  'session_token_required',
  'invalid_session_token',
  'invalid_ingest_token',
  'invalid_webhook',
  'forbidden',
  'session_not_found',
  'session_ended',
  'session_expired',
  'rate_limited',
  'too_many_open_sessions',
  'voice_not_found',
  'range_not_satisfiable',
  'audio_required',
  'audio_unreadable',
  'audio_too_large',
  'audio_too_long',
  'unsupported_audio',
  'no_speech',
  'provider_not_configured',
  'stt_unavailable',
  'llm_unavailable',
  'tts_unavailable',
  'stt_request_rejected',
  'llm_request_rejected',
  'tts_request_rejected',
  'livekit_unavailable',
  'store_unavailable',
  'agent_timeout',
  'internal_error',
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/** What stands for every value outside a closed set. */
export const OTHER = 'other';

/** `value` if `known` has it, else `other`. */
export const knownOrOther = <T extends string>(known: readonly T[], value: string): T | 'other' =>
  (known as readonly string[]).includes(value) ? (value as T) : OTHER;

/** Participant attribute on the agent that carries its turn-taking state. */
export const TURN_STATE_ATTRIBUTE = 'voice-agent.turn_state';

export const errorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
  timestamp: z.string(),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** The error body of an answer that can carry only these codes (the document's enum). */
export const errorBodySchemaFor = (codes: readonly [string, ...string[]]) =>
  z.object({
    error: z.object({ code: z.enum(codes), message: z.string() }),
    timestamp: z.string(),
  });

/**
 * Text that must not be blank. The checks come before the trim, on what the client sent, so the
 * JSON Schema of the document (maxLength, a non-blank pattern) says exactly what is accepted.
 */
const nonBlank = (maxChars: number, blank = 'must not be blank', tooLong?: string) =>
  z.string().max(maxChars, tooLong).regex(/\S/, blank).trim();

const shortText = nonBlank(128);

export const createSessionRequestSchema = z
  .object({
    instructions: z.string().max(20_000).optional(),
    userId: shortText.optional(),
    username: shortText.optional(),
    voice: z.boolean().optional(),
    tools: httpToolListSchema.optional().meta({
      description:
        'HTTP tools the agent may call in this session, besides the configured ones (README, Tools)',
    }),
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

/* ---------------------------------------------------------------------------------------------
 * Session events: the SSE feed's contract (DESIGN.md). The agent reports the bodies; the API's
 * event log gives each one its session id and sequence number.
 * ------------------------------------------------------------------------------------------- */

export const TURN_STATES = ['idle', 'userSpeaking', 'processing', 'agentSpeaking'] as const;
export const turnStateSchema = z.enum(TURN_STATES);
export type TurnState = z.infer<typeof turnStateSchema>;

const text = z.string().max(100_000);
const msOrNull = z.number().min(0).nullable();

export const sessionEventBodySchema = z.discriminatedUnion('event_type', [
  z.object({ event_type: z.literal('session_started'), room_name: z.string() }),
  z.object({
    event_type: z.literal('state_change'),
    new_state: turnStateSchema,
    previous_state: turnStateSchema.nullable(),
  }),
  z.object({ event_type: z.literal('user_speaking') }),
  z.object({
    event_type: z.literal('transcription'),
    text,
    is_final: z.boolean(),
    is_interruption: z.boolean(),
  }),
  z.object({
    event_type: z.literal('agent_speaking'),
    text: text.meta({
      description: 'The sentence being spoken so far (it starts again at each sentence)',
    }),
    delta: text.meta({
      description:
        "The text added since this turn's previous agent_speaking: a turn's deltas joined give the reply so far",
    }),
    turn_id: z.string(),
  }),
  z.object({
    event_type: z.literal('agent_finished'),
    turn_id: z.string(),
    interrupted: z.boolean(),
    text,
  }),
  z.object({
    event_type: z.literal('conversation_item'),
    role: z.enum(['user', 'assistant']),
    text,
    source: z.enum(['voice', 'text']),
    item_id: z.string(),
  }),
  z.object({
    event_type: z.literal('metrics'),
    turn_id: z.string(),
    end_of_utterance_ms: msOrNull,
    stt_ms: msOrNull,
    llm_ttft_ms: msOrNull,
    tts_ttfb_ms: msOrNull,
    voice_to_voice_ms: msOrNull,
  }),
  z.object({
    event_type: z.literal('tool_call'),
    call_id: z.string().max(200),
    name: z.string().max(200),
    arguments: z.record(z.string(), z.unknown()),
  }),
  z.object({
    event_type: z.literal('tool_result'),
    call_id: z.string().max(200),
    name: z.string().max(200),
    ok: z.boolean(),
    duration_ms: z.number().min(0),
  }),
  z.object({
    event_type: z.literal('error'),
    error_message: z.string().max(2000),
    error_code: z.string().max(100),
    recoverable: z.boolean(),
  }),
  z.object({ event_type: z.literal('session_ended'), reason: z.string().max(200) }),
]);
export type SessionEventBody = z.infer<typeof sessionEventBodySchema>;
export type SessionEventType = SessionEventBody['event_type'];

/** An event as it happened: the body and when (ISO 8601), before the log numbers it. */
export type TimedEventBody = SessionEventBody & { timestamp: string };

/** An event in the log and on the wire. */
export type SessionEvent = SessionEventBody & {
  session_id: string;
  seq: number;
  timestamp: string;
};

/** `POST /internal/sessions/:id/events`: what the agent sends, in the order it happened. */
export const ingestRequestSchema = z.object({
  events: z
    .array(
      z.intersection(
        sessionEventBodySchema,
        // Any offset is accepted; the log keeps UTC.
        z.object({
          timestamp: z.iso
            .datetime({ offset: true })
            .transform((value) => new Date(value).toISOString()),
        }),
      ),
    )
    .min(1)
    .max(500),
});

/* --------------------------------------------------------------------------------------------
 * Session resources
 * ------------------------------------------------------------------------------------------ */

export const sessionResponseSchema = z.object({
  sessionId: z.string(),
  roomName: z.string(),
  state: turnStateSchema,
  live: z.boolean(),
  createdAt: z.string(),
  lastActivityAt: z.string(),
  endedAt: z.string().nullable(),
  /** When the session expires if nothing happens in it (null once ended). */
  expiresAt: z.string().nullable(),
});
export type SessionResponse = z.infer<typeof sessionResponseSchema>;

export const participantTokenResponseSchema = z.object({
  sessionId: z.string(),
  roomName: z.string(),
  livekitUrl: z.string(),
  participantToken: z.string(),
  participantIdentity: z.string(),
  expiresAt: z.string(),
});
export type ParticipantTokenResponse = z.infer<typeof participantTokenResponseSchema>;

/** `GET /api/page`: what the call page needs to know of the server before it starts. */
export const pageConfigResponseSchema = z.object({
  /** `open`: the page may open sessions itself, with the ticket; `off`: it only joins handed ones. */
  sessions: z.enum(PAGE_SESSION_MODES),
  /** Origins whose pages may embed the call page and hand it a session by postMessage. */
  embedOrigins: z.array(z.string()),
  /** Sent as X-Page-Ticket when the page opens a session; only in `open` mode. */
  ticket: z.string().optional(),
  ticketExpiresAt: z.string().optional(),
});
export type PageConfigResponse = z.infer<typeof pageConfigResponseSchema>;

export const transcriptItemSchema = z.object({
  item_id: z.string(),
  role: z.enum(['user', 'assistant']),
  text: z.string(),
  source: z.enum(['voice', 'text']),
  timestamp: z.string(),
});
export const transcriptResponseSchema = z.object({
  sessionId: z.string(),
  items: z.array(transcriptItemSchema),
  nextAfter: z
    .number()
    .int()
    .meta({
      description:
        'The cursor after this page, for `?after=`: the event seq of its last item (the `after` ' +
        'asked for when the page is empty); also where a client polls for newer items',
    }),
  hasMore: z.boolean().meta({ description: 'More items follow this page already' }),
});
export type TranscriptResponse = z.infer<typeof transcriptResponseSchema>;

export const TRANSCRIPT_PAGE_DEFAULT = 200;
export const TRANSCRIPT_PAGE_MAX = 1000;
const wholeNumber = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a whole number')
  .transform(Number);

/** `GET /api/sessions/:id/transcript` pages through the items by their `seq` in the event log. */
export const transcriptQuerySchema = z.object({
  after: wholeNumber.optional().meta({
    description:
      "Items after this event seq: a page's `nextAfter` (0, the default: from the first item)",
  }),
  // A pattern, not a number check after the transform, so the document says what is accepted.
  limit: z
    .string()
    .regex(/^(?:[1-9]\d{0,2}|1000)$/, `must be a whole number from 1 to ${TRANSCRIPT_PAGE_MAX}`)
    .transform(Number)
    .optional()
    .meta({
      description: `Items per page, at most ${TRANSCRIPT_PAGE_MAX} (default ${TRANSCRIPT_PAGE_DEFAULT})`,
    }),
});

/* --------------------------------------------------------------------------------------------
 * Text chat (POST /api/chat): JSON, or the multipart form existing clients send.
 * ------------------------------------------------------------------------------------------ */

export const CHAT_MESSAGE_MAX_CHARS = 4000;
const chatMessage = nonBlank(
  CHAT_MESSAGE_MAX_CHARS,
  'must not be empty',
  `must be at most ${CHAT_MESSAGE_MAX_CHARS} characters`,
);
const sessionIdField = nonBlank(64);

/**
 * Forms send empty fields for values left out: an empty field is one left out. Written as a union
 * with '' (not a preprocess) so the document says that an empty field is accepted.
 */
const formField = <T extends z.ZodType>(schema: T) =>
  z
    .union([z.literal(''), schema])
    .optional()
    .transform((value) => (value === '' ? undefined : (value as z.output<T> | undefined)));

export const chatJsonRequestSchema = z
  .object({
    message: chatMessage,
    sessionId: sessionIdField.optional(),
    stream: z.boolean().optional(),
    /** Accepted for clients moving over from the form; JSON carries text only. */
    type: z.literal('text').optional(),
    userId: shortText.optional(),
    username: shortText.optional(),
  })
  .strict();

/** The form: `type` says text (the default, for clients that send none) or voice. */
export const chatFormRequestSchema = z.discriminatedUnion(
  'type',
  [
    z.object({
      type: z.literal('text').default('text'),
      message: chatMessage,
      sessionId: formField(sessionIdField),
      userId: formField(shortText),
      username: formField(shortText),
      stream: formField(z.enum(['true', 'false'])),
    }),
    z.object({
      type: z.literal('voice'),
      audio: z
        .instanceof(File, { message: 'a voice message needs an audio file' })
        // What the file is in the document: JSON Schema has no File.
        .meta({ type: 'string', format: 'binary' }),
      message: formField(z.string().max(CHAT_MESSAGE_MAX_CHARS)),
      sessionId: formField(sessionIdField),
      userId: formField(shortText),
      username: formField(shortText),
      stream: formField(z.enum(['true', 'false'])),
    }),
  ],
  // The text form's default would otherwise show as a third value, 'undefined'.
  { error: "Invalid discriminator value. Expected 'text' | 'voice'" },
);

export const chatResponseSchema = z.object({
  /** The assistant's reply. */
  message: z.string(),
  type: z.enum(['text', 'voice']),
  sessionId: z.string(),
  /** The spoken reply of a voice message: an absolute URL, valid for VOICE_REPLY_TTL_S. */
  audioUrl: z.string().optional(),
  /** The user's words: the message, or the transcript of a voice message. */
  transcript: z.string(),
  /** Only when this message opened the session: the key to its other calls. */
  sessionToken: z.string().optional(),
});
export type ChatResponse = z.infer<typeof chatResponseSchema>;

/** A typed message the API hands the agent of a live call (LiveKit data, sent by the server). */
export const AGENT_CHAT_TOPIC = 'voice-agent.chat';
export const agentChatMessageSchema = z.object({
  itemId: z.string().min(1).max(100),
  text: z.string().min(1).max(CHAT_MESSAGE_MAX_CHARS),
  /** `voice` for the transcript of a voice message. */
  source: z.enum(['text', 'voice']),
});
export type AgentChatMessage = z.infer<typeof agentChatMessageSchema>;

/** `GET /internal/sessions/:id/history`: the conversation a new call of the session starts from. */
export const historyResponseSchema = z.object({
  items: z.array(
    z.object({
      role: z.enum(['user', 'assistant']),
      text: z.string(),
      source: z.enum(['voice', 'text']),
      item_id: z.string(),
    }),
  ),
});
