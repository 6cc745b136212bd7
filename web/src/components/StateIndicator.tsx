/** The agent's turn-taking state, live from `state_change` events, in words and motion. */
import type { TurnState } from '../../../common/protocol';

const LABELS: Record<TurnState, string> = {
  idle: 'Ready',
  userSpeaking: 'Listening',
  processing: 'Thinking',
  agentSpeaking: 'Speaking',
};

export function StateIndicator({ state }: { state: TurnState }) {
  return (
    <div className="state" data-testid="turn-state" data-state={state} role="status">
      <span className="state-bars" aria-hidden="true">
        <span />
        <span />
        <span />
        <span />
      </span>
      <span className="state-label">{LABELS[state]}</span>
    </div>
  );
}
