/**
 * Everything the page knows about its session from the event feed: turn state, transcript,
 * per-turn latency, the agent's last error, the end. Events are applied once each, by `seq`, so a
 * reconnect that replays the log never duplicates a line.
 */
import type { SessionEvent, TurnState } from '../../../common/protocol';
import {
  applyChat,
  applyEvent,
  type ChatAction,
  stopRunningTools,
  type TranscriptLine,
} from './transcript';

export interface TurnMetrics {
  turnId: string;
  voiceToVoiceMs: number | null;
  llmTtftMs: number | null;
  ttsTtfbMs: number | null;
}

interface FeedState {
  sessionId?: string;
  lastSeq: number;
  lines: TranscriptLine[];
  turnState: TurnState;
  /** The latest turns, newest first. */
  metrics: TurnMetrics[];
  agentError?: { message: string; recoverable: boolean };
  /** Why the session ended, once it has. */
  endReason?: string;
}

type FeedAction =
  | { type: 'event'; event: SessionEvent }
  | { type: 'chat'; action: ChatAction }
  | { type: 'ended'; reason: string }
  | { type: 'reset' };

export const initialFeedState: FeedState = {
  lastSeq: 0,
  lines: [],
  turnState: 'idle',
  metrics: [],
};

const METRICS_KEPT = 5;

export function reduceFeed(state: FeedState, action: FeedAction): FeedState {
  switch (action.type) {
    case 'reset':
      return initialFeedState;
    case 'ended':
      return state.endReason
        ? state
        : {
            ...state,
            endReason: action.reason,
            turnState: 'idle',
            lines: stopRunningTools(state.lines),
          };
    case 'chat':
      return { ...state, lines: applyChat(state.lines, action.action) };
    case 'event':
      return applySessionEvent(state, action.event);
  }
}

function applySessionEvent(state: FeedState, event: SessionEvent): FeedState {
  // The first event of a session the page just opened (by chat or call) keeps its local lines.
  const current =
    state.sessionId === event.session_id
      ? state
      : { ...state, sessionId: event.session_id, lastSeq: 0 };
  if (event.seq <= current.lastSeq) return current;
  const next = { ...current, lastSeq: event.seq, lines: applyEvent(current.lines, event) };
  switch (event.event_type) {
    case 'state_change':
      return { ...next, turnState: event.new_state };
    case 'metrics': {
      const turn = {
        turnId: event.turn_id,
        voiceToVoiceMs: event.voice_to_voice_ms,
        llmTtftMs: event.llm_ttft_ms,
        ttsTtfbMs: event.tts_ttfb_ms,
      };
      return { ...next, metrics: [turn, ...next.metrics].slice(0, METRICS_KEPT) };
    }
    case 'error':
      // A tool that failed has its own line in the transcript, and the agent goes on (it says so).
      if (event.error_code === 'tool_failed' && event.recoverable) return next;
      return {
        ...next,
        agentError: { message: event.error_message, recoverable: event.recoverable },
      };
    case 'agent_finished':
      // A reply got through: an earlier error no longer describes the call.
      return { ...next, agentError: undefined };
    case 'session_ended':
      return { ...next, endReason: event.reason, turnState: 'idle' };
    default:
      return next;
  }
}
