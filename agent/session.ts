/**
 * Builds the voice pipeline for one call: on-device VAD and end-of-turn model, the configured
 * providers, barge-in on. Pure factories: tests and benchmarks build them without a room.
 */
import { inference, type llm, voice } from '@livekit/agents';
import { DEFAULT_INSTRUCTIONS } from '../common/assistant.js';
import type { AgentConfig } from './config.js';
import type { Providers } from './providers.js';

export function createAssistant(
  instructions: string | undefined,
  chatCtx?: llm.ChatContext,
  tools?: llm.FunctionTool[],
): voice.Agent {
  return new voice.Agent({
    instructions: instructions?.trim() || DEFAULT_INSTRUCTIONS,
    ...(chatCtx && { chatCtx }),
    ...(tools && { tools }),
  });
}

export function createVad(config: AgentConfig): inference.VAD {
  return new inference.VAD(
    config.VAD_MIN_SILENCE_MS !== undefined
      ? { minSilenceDuration: config.VAD_MIN_SILENCE_MS }
      : {},
  );
}

export function createVoiceSession(
  providers: Providers,
  vad: inference.VAD,
  config: AgentConfig,
): voice.AgentSession {
  const endpointing = {
    ...(config.ENDPOINTING_MIN_DELAY_MS !== undefined && {
      minDelay: config.ENDPOINTING_MIN_DELAY_MS,
    }),
    ...(config.ENDPOINTING_MAX_DELAY_MS !== undefined && {
      maxDelay: config.ENDPOINTING_MAX_DELAY_MS,
    }),
  };
  const session = new voice.AgentSession({
    stt: providers.stt,
    llm: providers.llm,
    tts: providers.tts,
    vad,
    connOptions: {
      ...providers.connOptions,
      // Failed turns are counted by provider-failures.ts, which ends the call.
      maxUnrecoverableErrors: Number.POSITIVE_INFINITY,
    },
    turnHandling: {
      // 'v1-mini' is the on-device model; the bigger one is served by LiveKit Cloud only.
      turnDetection: new inference.TurnDetector({ version: 'v1-mini' }),
      endpointing,
      // 'adaptive' interruption detection runs in LiveKit Cloud; VAD-based barge-in runs here.
      interruption: { enabled: true, mode: 'vad' },
      preemptiveGeneration: { enabled: config.PREEMPTIVE_GENERATION },
    },
  });
  session.on(voice.AgentSessionEventTypes.UserStateChanged, ({ newState }) =>
    providers.userSpeaking(newState === 'speaking'),
  );
  return session;
}
