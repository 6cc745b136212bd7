/**
 * Turns one AgentSession's events into the feed's protocol events (common/protocol.ts) and hands
 * them to a sink. Owns the mapping rules: the four-state turn machine, barge-in marking of user
 * transcripts, one `agent_finished` and one `metrics` per spoken turn. Provider errors are
 * reported by provider-failures.ts, which decides what a failure means for the call.
 */
import { llm, voice } from '@livekit/agents';
import type { SessionEventBody, TurnState } from '../common/protocol.js';
import { PROVIDER_FAILURES } from './provider-failures.js';
import { SpeechTracker } from './speech-tracker.js';
import { SpokenReply } from './spoken-reply.js';
import type { SpokenTextListener } from './spoken-text.js';
import { TurnStateTracker } from './turn-state.js';

export interface SessionEventSink {
  report(event: SessionEventBody): void;
}

export interface SessionEventOptions {
  /** After the user stops speaking, how long before "no reply is coming" (back to idle). */
  settleAfterMs: number;
  onTurnState?: (state: TurnState) => void;
  /** Where a user message came from, when not the call's audio (text chat joins the session). */
  messageSource?: (message: llm.ChatMessage) => 'text' | 'voice' | undefined;
  /**
   * The job lost its room before the session closed (LiveKit restarted, the network dropped): the
   * call was cut off, not ended. The close is then reported as an `agent_disconnected` error, and
   * the session stays open for the caller to come back to, with a new agent and the conversation.
   */
  cutOff?: () => boolean;
}

/** The `error` code of a call the agent was cut off from. */
const AGENT_DISCONNECTED = 'agent_disconnected';

const seconds = (value: number | undefined) =>
  value === undefined ? null : Math.round(value * 1000);

export function reportSessionEvents(
  session: voice.AgentSession,
  sink: SessionEventSink,
  options: SessionEventOptions,
): SpokenTextListener {
  const Events = voice.AgentSessionEventTypes;
  const tracker = new TurnStateTracker();
  let settleTimer: NodeJS.Timeout | undefined;
  let userTalksOverAgent = false;
  const speeches = new SpeechTracker<voice.SpeechHandle>();
  const spokenReplies = new Map<string, SpokenReply>();
  /** The reply whose words are being played; set by its first word, cleared at its end. */
  let segmentTurn: string | undefined;
  /** End-of-turn figures arrive as their own metrics event, ahead of the reply they start. */
  const endOfTurn = new Map<string, { endOfUtteranceMs: number; sttMs: number }>();

  const reportTurnState = (change: ReturnType<TurnStateTracker['update']>) => {
    if (!change) return;
    sink.report({
      event_type: 'state_change',
      new_state: change.next,
      previous_state: change.previous,
    });
    options.onTurnState?.(change.next);
  };

  session.on(Events.UserStateChanged, (event) => {
    if (event.newState === 'speaking') {
      userTalksOverAgent = session.agentState === 'speaking';
      sink.report({ event_type: 'user_speaking' });
    }
    reportTurnState(tracker.update({ user: event.newState }));
    clearTimeout(settleTimer);
    if (event.oldState === 'speaking') {
      settleTimer = setTimeout(() => reportTurnState(tracker.settle()), options.settleAfterMs);
    }
  });

  session.on(Events.AgentStateChanged, (event) => {
    reportTurnState(tracker.update({ agent: event.newState }));
  });

  session.on(Events.UserInputTranscribed, (event) => {
    if (!event.transcript) return;
    sink.report({
      event_type: 'transcription',
      text: event.transcript,
      is_final: event.isFinal,
      is_interruption: userTalksOverAgent,
    });
  });

  session.on(Events.ConversationItemAdded, ({ item }) => {
    if (!(item instanceof llm.ChatMessage) || (item.role !== 'user' && item.role !== 'assistant'))
      return;
    sink.report({
      event_type: 'conversation_item',
      role: item.role,
      text: item.textContent ?? '',
      source: (item.role === 'user' && options.messageSource?.(item)) || 'voice',
      item_id: item.id,
    });
  });

  session.on(Events.SpeechCreated, ({ speechHandle }) => {
    speeches.add(speechHandle, (speech) => {
      const spoken = spokenReplies.get(speech.id);
      spokenReplies.delete(speech.id);
      // A reply that never reached the speaker (replaced before playout) is not a turn.
      if (!spoken) return;
      const reply = speech.chatItems.findLast(
        (item): item is llm.ChatMessage =>
          item instanceof llm.ChatMessage && item.role === 'assistant',
      );
      sink.report({
        event_type: 'agent_finished',
        turn_id: speech.id,
        interrupted: speech.interrupted,
        text: reply?.textContent ?? spoken.text,
      });
      const metrics = reply?.metrics ?? {};
      const eou = endOfTurn.get(speech.id);
      endOfTurn.delete(speech.id);
      sink.report({
        event_type: 'metrics',
        turn_id: speech.id,
        end_of_utterance_ms: eou ? Math.round(eou.endOfUtteranceMs) : null,
        stt_ms: eou ? Math.round(eou.sttMs) : null,
        llm_ttft_ms: seconds(metrics.llmNodeTtft),
        tts_ttfb_ms: seconds(metrics.ttsNodeTtfb),
        voice_to_voice_ms: seconds(metrics.e2eLatency),
      });
    });
  });

  session.on(Events.MetricsCollected, ({ metrics }) => {
    if (metrics.type !== 'eou_metrics' || !metrics.speechId) return;
    endOfTurn.set(metrics.speechId, {
      endOfUtteranceMs: metrics.endOfUtteranceDelayMs,
      sttMs: metrics.transcriptionDelayMs,
    });
  });

  session.on(Events.Close, ({ reason }) => {
    clearTimeout(settleTimer);
    if (options.cutOff?.()) {
      sink.report({
        event_type: 'error',
        error_code: AGENT_DISCONNECTED,
        error_message: 'The agent lost its connection to the call. Rejoin to continue it.',
        recoverable: true,
      });
      reportTurnState(tracker.reset());
      return;
    }
    // The framework closes with 'error' when a provider failed for good (speech recognition).
    const ended = reason === voice.CloseReason.ERROR ? PROVIDER_FAILURES : String(reason);
    sink.report({ event_type: 'session_ended', reason: ended });
  });

  return {
    /** Words of the reply being played, in step with its audio. */
    onText(text: string) {
      let speech = speeches.byId(segmentTurn);
      if (!speech) {
        // Words still draining from a reply that was cut off belong to no turn: the next reply's
        // words only come once it plays.
        if (segmentTurn !== undefined && session.agentState !== 'speaking') return;
        speech = speeches.playing();
        segmentTurn = speech?.id;
      }
      if (!speech) return;
      const spoken = spokenReplies.get(speech.id) ?? new SpokenReply();
      const words = spoken.add(text);
      if (!words) return;
      spokenReplies.set(speech.id, spoken);
      sink.report({ event_type: 'agent_speaking', ...words, turn_id: speech.id });
    },
    onSegmentEnd() {
      segmentTurn = undefined;
    },
  };
}
