/**
 * Measures voice turns the way a caller hears them, for the voice and capacity benchmarks: a
 * scripted caller speaks a question, and the turn's voice-to-voice time (end of its speech →
 * first audible agent frame) is joined with the agent's own `metrics` event for that turn.
 */
import type { SessionEvent } from '../common/protocol.js';
import type { ScriptedCaller } from '../test/support/caller.js';
import type { TestStack } from '../test/support/harness.js';
import type { FeedSubscriber } from '../test/support/sse.js';

export const QUESTIONS = [
  'What is the capital of France?',
  'How tall is the Eiffel tower?',
  'What river runs through Paris?',
  'When was the Louvre opened?',
  'What is the population of Lyon?',
];
/** One short reply for every turn: the test TTS then serves it from its cache, like a real
 * provider streaming its first bytes, instead of running espeak inside the measured time. */
export const REPLY = 'That is a good question.';

/** Provider latencies set on the test servers. */
export interface ProviderProfile {
  name: string;
  /** Silence after which the test STT ends an utterance, and the extra wait for its final. */
  sttEndpointingMs: number;
  sttFinalDelayMs: number;
  llmFirstTokenMs: number;
  /** Between streamed words; the TTS starts once the reply's first sentence is complete. */
  llmTokenIntervalMs: number;
  ttsFirstByteMs: number;
}

export const ZERO_LATENCY: ProviderProfile = {
  name: 'zero',
  sttEndpointingMs: 100,
  sttFinalDelayMs: 0,
  llmFirstTokenMs: 0,
  llmTokenIntervalMs: 0,
  ttsFirstByteMs: 0,
};
/** The realistic profile: STT final 150 ms after speech end, LLM 300 ms, TTS 150 ms. */
export const REALISTIC: ProviderProfile = {
  name: 'realistic',
  sttEndpointingMs: 100,
  sttFinalDelayMs: 50,
  llmFirstTokenMs: 300,
  llmTokenIntervalMs: 20,
  ttsFirstByteMs: 150,
};

/** The providers' share of a turn: LLM first token, the rest of the reply's first sentence
 * (the text the TTS needs before it can start), TTS first byte. */
export function providerLatencyMs(profile: ProviderProfile): number {
  const firstSentenceWords = REPLY.split(' ').length;
  return (
    profile.llmFirstTokenMs +
    (firstSentenceWords - 1) * profile.llmTokenIntervalMs +
    profile.ttsFirstByteMs
  );
}

export function applyProfile(stack: TestStack, profile: ProviderProfile): void {
  stack.deepgram.setLatency({
    endpointingMs: profile.sttEndpointingMs,
    finalDelayMs: profile.sttFinalDelayMs,
  });
  stack.openai.setLatency({
    llmFirstTokenMs: profile.llmFirstTokenMs,
    llmTokenIntervalMs: profile.llmTokenIntervalMs,
    ttsFirstByteMs: profile.ttsFirstByteMs,
  });
  stack.openai.setReply(() => REPLY);
}

export interface TurnSample {
  /** End of the caller's speech → first audible agent frame at the caller. */
  voiceToVoiceMs: number;
  /** The framework's end-of-utterance delay: end of speech (VAD) → turn committed. */
  endOfUtteranceMs: number;
  sttMs: number;
  llmTtftMs: number;
  ttsTtfbMs: number;
  /** The framework's own voice-to-voice: end of speech → first agent frame sent. */
  agentE2eMs: number;
  /** voiceToVoice − (endpointing delay + the providers' configured latencies). */
  overheadMs: number;
}

type MetricsEvent = Extract<SessionEvent, { event_type: 'metrics' }>;

/** One question and its answer; resolves once the agent is idle again. */
export async function measureTurn(
  caller: ScriptedCaller,
  feed: FeedSubscriber,
  profile: ProviderProfile,
  question: string,
): Promise<TurnSample> {
  const afterSeq = feed.lastSeq;
  const speechEnd = await caller.say(question);
  const heard = await caller.waitForAgentSpeech(speechEnd, 20_000);
  const metrics = (await feed.waitFor(
    (event) => event.event_type === 'metrics' && event.seq > afterSeq,
    30_000,
    'the turn’s metrics',
  )) as MetricsEvent;
  await caller.waitForTurnState('idle', heard, 30_000);
  // The reply is still reaching the caller when the agent turns idle; speak after it.
  await caller.waitForAgentSilence(400, 30_000);
  const voiceToVoiceMs = heard - speechEnd;
  const endOfUtteranceMs = metrics.end_of_utterance_ms ?? Number.NaN;
  return {
    voiceToVoiceMs,
    endOfUtteranceMs,
    sttMs: metrics.stt_ms ?? Number.NaN,
    llmTtftMs: metrics.llm_ttft_ms ?? Number.NaN,
    ttsTtfbMs: metrics.tts_ttfb_ms ?? Number.NaN,
    agentE2eMs: metrics.voice_to_voice_ms ?? Number.NaN,
    overheadMs: voiceToVoiceMs - endOfUtteranceMs - providerLatencyMs(profile),
  };
}
