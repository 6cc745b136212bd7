/**
 * The four-state turn-taking machine clients see (idle, userSpeaking, processing, agentSpeaking),
 * derived from the agent session's separate user and agent states.
 *
 * Two rules make it read like a conversation: the user's speech wins (talking over the agent is
 * barge-in, the turn is the user's), and the moment the user stops speaking the agent is
 * processing, although the framework only starts "thinking" after the end-of-turn delay. If that
 * speech leads to no reply (noise, a pause mid-sentence), `settle()` returns to idle.
 */
import type { voice } from '@livekit/agents';
import type { TurnState } from '../common/protocol.js';

export interface TurnStateChange {
  previous: TurnState | null;
  next: TurnState;
}

export class TurnStateTracker {
  #user: voice.UserState = 'listening';
  #agent: voice.AgentState = 'initializing';
  #awaitingReply = false;
  #current: TurnState | null = null;

  get current(): TurnState | null {
    return this.#current;
  }

  /** Records a session state change; answers the turn-state change it causes, if any. */
  update(change: { user?: voice.UserState; agent?: voice.AgentState }): TurnStateChange | null {
    if (change.user !== undefined && change.user !== this.#user) {
      this.#awaitingReply = this.#user === 'speaking';
      this.#user = change.user;
    }
    if (change.agent !== undefined) {
      if (change.agent === 'thinking' || change.agent === 'speaking') this.#awaitingReply = false;
      this.#agent = change.agent;
    }
    return this.#emit();
  }

  /** The agent has left the call: the turn is nobody's. */
  reset(): TurnStateChange | null {
    this.#user = 'listening';
    this.#agent = 'idle';
    this.#awaitingReply = false;
    return this.#emit();
  }

  /** The user's last speech is not going to be answered. */
  settle(): TurnStateChange | null {
    this.#awaitingReply = false;
    return this.#emit();
  }

  #emit(): TurnStateChange | null {
    const next = this.#derive();
    if (next === this.#current) return null;
    const previous = this.#current;
    this.#current = next;
    return { previous, next };
  }

  #derive(): TurnState {
    if (this.#user === 'speaking') return 'userSpeaking';
    if (this.#agent === 'speaking') return 'agentSpeaking';
    if (this.#agent === 'thinking' || this.#awaitingReply) return 'processing';
    return 'idle';
  }
}
