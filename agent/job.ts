/**
 * One call: the job process entry. Reads the session from the dispatch metadata, builds the
 * pipeline, joins the room, and reports everything that happens to the session's event log.
 */
import { defineAgent, type JobContext, llm, log, voice } from '@livekit/agents';
import { DisconnectReason, RoomEvent } from '@livekit/rtc-node';
import { loadConfig } from '../common/config.js';
import { logSecrets, redactStdout } from '../common/log-redaction.js';
import {
  AGENT_CHAT_TOPIC,
  agentChatMessageSchema,
  jobMetadataSchema,
  TURN_STATE_ATTRIBUTE,
  type TurnState,
} from '../common/protocol.js';
import { type AgentConfig, agentConfigSchema } from './config.js';
import { EventReporter } from './event-reporter.js';
import { loadHistory } from './history.js';
import { handleProviderFailures } from './provider-failures.js';
import { createProviders, MissingProviderError } from './providers.js';
import { createAssistant, createVad, createVoiceSession } from './session.js';
import { reportSessionEvents } from './session-events.js';
import { tapSpokenText } from './spoken-text.js';
import { openCallTools } from './tools.js';

/** How long the job waits for the last events to reach the API when the call ends. */
const EVENT_FLUSH_TIMEOUT_MS = 3000;
/**
 * How the agent takes the room's input. The caller's audio at 16 kHz, the rate VAD, the
 * end-of-turn model and the STT take (at the framework's 24 kHz each resampled it every frame), in
 * 20 ms frames (rtc-node's 10 ms doubles every per-frame cost). No session messages: the framework
 * would send every session event to the caller as a byte stream, which the page does not read (it
 * follows the API's feed). Frame size and session messages are our framework patch (patches/).
 */
const ROOM_INPUT = {
  audioSampleRate: 16_000,
  audioFrameSizeMs: 20,
  sessionMessagesEnabled: false,
};

/**
 * How long after the user stops speaking the agent may still start its reply: the longest
 * end-of-turn wait plus the final transcript's delay.
 */
const settleAfterMs = (config: AgentConfig) => (config.ENDPOINTING_MAX_DELAY_MS ?? 3000) + 1500;

export default defineAgent({
  // Once in each job process, before its call: the process's lines, the framework's included,
  // lose tokens, secrets and (at info and above) what was said.
  prewarm: () => redactStdout(logSecrets(loadConfig(agentConfigSchema))),
  entry: async (ctx: JobContext) => {
    const config = loadConfig(agentConfigSchema);
    const metadata = jobMetadataSchema.parse(JSON.parse(ctx.job.metadata || '{}'));
    const logger = log().child({ sessionId: metadata.sessionId, room: ctx.room.name });
    const events = new EventReporter({
      apiUrl: config.API_URL,
      sessionId: metadata.sessionId,
      ingestToken: metadata.ingestToken,
      log: logger,
    });
    ctx.addShutdownCallback(() => events.close(EVENT_FLUSH_TIMEOUT_MS));

    const vad = createVad(config);
    let providers: ReturnType<typeof createProviders>;
    try {
      providers = createProviders(config, vad);
    } catch (error) {
      if (!(error instanceof MissingProviderError)) throw error;
      logger.error({ code: error.code, missing: error.missing }, error.message);
      events.report({
        event_type: 'error',
        error_code: error.code,
        error_message: error.message,
        recoverable: false,
      });
      ctx.shutdown(error.code);
      return;
    }

    const session = createVoiceSession(providers, vad, config);
    const publishTurnState = turnStatePublisher(ctx, logger);
    const typedMessages = acceptTypedMessages(ctx, session, logger);
    const cutOff = watchRoomConnection(ctx, session, logger);
    const feed = reportSessionEvents(session, events, {
      settleAfterMs: settleAfterMs(config),
      onTurnState: publishTurnState,
      messageSource: (message) => typedMessages.get(message.id),
      cutOff,
    });
    handleProviderFailures(session, events, {
      maxFailedTurns: config.MAX_FAILED_TURNS,
      log: logger,
    });
    events.report({ event_type: 'session_started', room_name: ctx.job.room?.name ?? '' });
    // The call is over when the session closes (the caller left): free the worker at once
    // instead of waiting for LiveKit to close the room around the lone agent.
    session.on(voice.AgentSessionEventTypes.Close, ({ reason }) => ctx.shutdown(String(reason)));
    const [history, tools] = await Promise.all([
      loadHistory({ apiUrl: config.API_URL, ...metadata, log: logger }),
      openCallTools(config, {
        sessionId: metadata.sessionId,
        sessionTools: metadata.tools ?? [],
        events,
        logger,
      }),
    ]);
    ctx.addShutdownCallback(() => tools.close());
    const assistant = createAssistant(metadata.instructions, history, tools.initial());
    await session.start({
      agent: assistant,
      room: ctx.room,
      inputOptions: ROOM_INPUT,
    });
    tapSpokenText(session, feed, logger);
    tools
      .addMcpTools(assistant)
      .catch((error: unknown) => logger.warn({ error }, 'could not add the MCP tools'));
    await ctx.connect();
    publishTurnState();
    logger.info('agent joined the call');
  },
});

/**
 * Text chat during a call: the API hands typed messages (and voice-message transcripts) to the
 * agent as LiveKit data sent by the server itself, never by a participant, so the caller cannot
 * forge them. Each is answered in the call's context and spoken. Answers the source of each.
 */
function acceptTypedMessages(
  ctx: JobContext,
  session: voice.AgentSession,
  logger: ReturnType<typeof log>,
): Map<string, 'text' | 'voice'> {
  const sources = new Map<string, 'text' | 'voice'>();
  ctx.room.on(RoomEvent.DataReceived, (payload, participant, _kind, topic) => {
    if (topic !== AGENT_CHAT_TOPIC || participant !== undefined) return;
    const parsed = agentChatMessageSchema.safeParse(parseJson(payload));
    if (!parsed.success) {
      logger.warn({ topic }, 'ignored a malformed chat message');
      return;
    }
    const { itemId, text, source } = parsed.data;
    sources.set(itemId, source);
    session.interrupt();
    session.generateReply({
      userInput: llm.ChatMessage.create({ role: 'user', content: text, id: itemId }),
    });
  });
  return sources;
}

function parseJson(payload: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return undefined;
  }
}

/**
 * Whether the job lost its room before its session closed, other than by the room's deletion
 * (which ends the call): LiveKit restarted or went away, the network dropped. The caller may still
 * be there, or come back; the session stays open for them (see reportSessionEvents' `cutOff`).
 */
function watchRoomConnection(
  ctx: JobContext,
  session: voice.AgentSession,
  logger: ReturnType<typeof log>,
): () => boolean {
  let sessionClosed = false;
  let cutOff = false;
  session.on(voice.AgentSessionEventTypes.Close, () => {
    sessionClosed = true;
  });
  ctx.room.on(RoomEvent.Disconnected, (reason) => {
    if (sessionClosed) return;
    cutOff = reason !== DisconnectReason.ROOM_DELETED;
    logger.warn({ reason: DisconnectReason[reason] ?? reason }, 'lost the connection to the call');
  });
  return () => cutOff;
}

/**
 * Mirrors the turn state into a participant attribute, for LiveKit clients that do not follow the
 * API's feed. States change before the agent has joined (the session starts first), so calling it
 * without a state publishes the latest one again once connected.
 */
function turnStatePublisher(
  ctx: JobContext,
  logger: ReturnType<typeof log>,
): (state?: TurnState) => void {
  let latest: TurnState | undefined;
  return (state) => {
    latest = state ?? latest;
    if (!latest || !ctx.room.isConnected || !ctx.room.localParticipant) return;
    ctx.room.localParticipant
      .setAttributes({ [TURN_STATE_ATTRIBUTE]: latest })
      .catch((error: unknown) => logger.warn({ error }, 'could not publish the turn state'));
  };
}
