/**
 * What the call does when a provider has failed for good, after the framework's retries and
 * fallback providers: the feed gets one `error` per turn and stage (a stable code, never the
 * provider's text), a turn the LLM could not answer gets a short spoken apology (a failed TTS
 * cannot say one), and the call ends once MAX_FAILED_TURNS turns in a row went unanswered, or at
 * once when speech recognition is gone (the framework closes the session then).
 *
 * The framework's own limit (`maxUnrecoverableErrors`) counts errors, not turns, and starts again
 * whenever the agent speaks, so an apology would reset it; the session turns it off and this
 * count decides instead.
 */
import { voice } from '@livekit/agents';
import type { SessionEventBody } from '../common/protocol.js';
import { SpeechTracker } from './speech-tracker.js';

export type Stage = 'stt' | 'llm' | 'tts';

export const APOLOGY = "Sorry, I couldn't answer that. Please try again.";
export const GOODBYE = "Sorry, I can't answer right now. Please call again later.";
/** `session_ended` reason when provider failures end the call. */
export const PROVIDER_FAILURES = 'provider_failures';

const STAGES: Record<string, Stage> = { stt_error: 'stt', llm_error: 'llm', tts_error: 'tts' };
const STAGE_NAMES: Record<Stage, string> = {
  stt: 'speech recognition',
  llm: 'language model',
  tts: 'speech synthesis',
};

export interface FailureOutcome {
  /** The first failure of this stage in this turn: the feed hears of it. */
  report: boolean;
  /** Say the apology (the turn got no answer, and speech synthesis still works). */
  apologize: boolean;
  endCall: boolean;
}

/** Counts the turns in a row the providers could not answer. Pure: the rules, no session. */
export class TurnFailures {
  readonly #failedStages = new Map<string, Set<Stage>>();
  #failedInARow = 0;

  constructor(private readonly maxFailedTurns: number) {}

  /** `stage` failed for good while `turnId` was being answered. */
  failed(turnId: string, stage: Stage): FailureOutcome {
    const stages = this.#failedStages.get(turnId) ?? new Set<Stage>();
    this.#failedStages.set(turnId, stages);
    if (stages.has(stage)) return { report: false, apologize: false, endCall: false };
    if (stages.size === 0) this.#failedInARow += 1;
    stages.add(stage);
    const endCall = stage === 'stt' || this.#failedInARow >= this.maxFailedTurns;
    return { report: true, apologize: stage === 'llm' && !stages.has('tts'), endCall };
  }

  /** `turnId` is over; a turn no stage failed in breaks the run of failures. */
  finished(turnId: string): void {
    if (!this.#failedStages.has(turnId)) this.#failedInARow = 0;
  }
}

export interface ProviderFailureOptions {
  maxFailedTurns: number;
  log: { warn(obj: object, msg: string): void };
}

export function handleProviderFailures(
  session: voice.AgentSession,
  sink: { report(event: SessionEventBody): void },
  options: ProviderFailureOptions,
): void {
  const failures = new TurnFailures(options.maxFailedTurns);
  const speeches = new SpeechTracker<voice.SpeechHandle>();
  /** An apology belongs to the turn it apologizes for. */
  const apologyFor = new Map<string, string>();
  const turnOf = (speech: voice.SpeechHandle | undefined) =>
    speech ? (apologyFor.get(speech.id) ?? speech.id) : 'outside a turn';

  const say = (text: string, turnId: string) => {
    try {
      const speech = session.say(text, { addToChatCtx: false });
      apologyFor.set(speech.id, turnId);
    } catch (error) {
      options.log.warn({ error: String(error) }, 'could not apologize: the session is closing');
    }
  };

  session.on(voice.AgentSessionEventTypes.SpeechCreated, ({ speechHandle }) => {
    speeches.add(speechHandle, (speech) => failures.finished(turnOf(speech)));
  });

  session.on(voice.AgentSessionEventTypes.Error, ({ error }) => {
    if (!('recoverable' in error) || error.recoverable) return;
    const stage = STAGES[error.type];
    if (!stage) return;
    const turnId = turnOf(speeches.playing());
    const outcome = failures.failed(turnId, stage);
    const detail = 'error' in error ? String(error.error) : undefined;
    options.log.warn({ stage, turnId, ...outcome, error: detail }, 'provider failed');
    if (!outcome.report) return;
    sink.report({
      event_type: 'error',
      error_code: `${stage}_unavailable`,
      error_message: outcome.endCall
        ? `The ${STAGE_NAMES[stage]} is unavailable; the call is ending.`
        : `The ${STAGE_NAMES[stage]} failed; this turn could not be completed.`,
      recoverable: !outcome.endCall,
    });
    if (outcome.apologize) say(outcome.endCall ? GOODBYE : APOLOGY, turnId);
    // Speech recognition failing ends the session in the framework already.
    if (outcome.endCall && stage !== 'stt') {
      session.shutdown({ drain: true, reason: PROVIDER_FAILURES });
    }
  });
}
