/**
 * One call: the job process entry. Reads the session from the dispatch metadata, builds the
 * pipeline, joins the room and keeps the turn-taking state visible on the agent participant.
 */
import { defineAgent, type JobContext, log, voice } from '@livekit/agents';
import { loadConfig } from '../common/config.js';
import { jobMetadataSchema, TURN_STATE_ATTRIBUTE } from '../common/protocol.js';
import { type AgentConfig, agentConfigSchema } from './config.js';
import { createProviders, MissingProviderError } from './providers.js';
import { createAssistant, createVoiceSession } from './session.js';
import { TurnStateTracker } from './turn-state.js';

/**
 * How long after the user stops speaking the agent may still start its reply: the longest
 * end-of-turn wait plus the final transcript's delay.
 */
const settleAfterMs = (config: AgentConfig) => (config.ENDPOINTING_MAX_DELAY_MS ?? 3000) + 1500;

export default defineAgent({
  entry: async (ctx: JobContext) => {
    const config = loadConfig(agentConfigSchema);
    const metadata = jobMetadataSchema.parse(JSON.parse(ctx.job.metadata || '{}'));
    const logger = log().child({ sessionId: metadata.sessionId, room: ctx.room.name });

    let providers: ReturnType<typeof createProviders>;
    try {
      providers = createProviders(config);
    } catch (error) {
      if (!(error instanceof MissingProviderError)) throw error;
      logger.error({ code: error.code, missing: error.missing }, error.message);
      ctx.shutdown(error.code);
      return;
    }

    const session = createVoiceSession(providers, config);
    const turnState = publishTurnState(ctx, session, settleAfterMs(config));
    await session.start({ agent: createAssistant(metadata.instructions), room: ctx.room });
    await ctx.connect();
    turnState.flush();
    logger.info('agent joined the call');
  },
});

/**
 * Mirrors the turn state into a participant attribute. States change before the agent has joined
 * (the session starts first), so the latest one is published again once connected.
 */
function publishTurnState(
  ctx: JobContext,
  session: voice.AgentSession,
  settleAfterMs: number,
): { flush(): void } {
  const tracker = new TurnStateTracker();
  let settleTimer: NodeJS.Timeout | undefined;
  const flush = () => {
    const state = tracker.current;
    if (!state || !ctx.room.isConnected || !ctx.room.localParticipant) return;
    ctx.room.localParticipant
      .setAttributes({ [TURN_STATE_ATTRIBUTE]: state })
      .catch((error: unknown) => log().warn({ error }, 'could not publish the turn state'));
  };
  session.on(voice.AgentSessionEventTypes.UserStateChanged, (event) => {
    if (tracker.update({ user: event.newState })) flush();
    clearTimeout(settleTimer);
    if (event.oldState === 'speaking') {
      settleTimer = setTimeout(() => tracker.settle() && flush(), settleAfterMs);
    }
  });
  session.on(voice.AgentSessionEventTypes.AgentStateChanged, (event) => {
    if (tracker.update({ agent: event.newState })) flush();
  });
  session.on(voice.AgentSessionEventTypes.Close, () => clearTimeout(settleTimer));
  return { flush };
}
