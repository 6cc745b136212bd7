import { describe, expect, it } from 'vitest';
import { TurnStateTracker } from './turn-state.js';

describe('TurnStateTracker', () => {
  it('walks a whole turn in order and reports each change once', () => {
    const tracker = new TurnStateTracker();
    const changes = [
      tracker.update({ agent: 'listening' }),
      tracker.update({ user: 'speaking' }),
      tracker.update({ user: 'listening' }),
      tracker.update({ agent: 'thinking' }),
      tracker.update({ agent: 'speaking' }),
      tracker.update({ agent: 'speaking' }),
      tracker.update({ agent: 'listening' }),
    ];
    expect(changes).toEqual([
      { previous: null, next: 'idle' },
      { previous: 'idle', next: 'userSpeaking' },
      { previous: 'userSpeaking', next: 'processing' },
      null,
      { previous: 'processing', next: 'agentSpeaking' },
      null,
      { previous: 'agentSpeaking', next: 'idle' },
    ]);
  });

  it('gives the turn to the user who talks over the agent', () => {
    const tracker = new TurnStateTracker();
    tracker.update({ agent: 'speaking' });
    expect(tracker.update({ user: 'speaking' })).toEqual({
      previous: 'agentSpeaking',
      next: 'userSpeaking',
    });
  });

  it('keeps the agent speaking after speech that did not interrupt it', () => {
    const tracker = new TurnStateTracker();
    tracker.update({ agent: 'speaking' });
    tracker.update({ user: 'speaking' });
    expect(tracker.update({ user: 'listening' })).toEqual({
      previous: 'userSpeaking',
      next: 'agentSpeaking',
    });
  });

  it('returns to idle when the user spoke but no reply follows', () => {
    const tracker = new TurnStateTracker();
    tracker.update({ agent: 'listening' });
    tracker.update({ user: 'speaking' });
    tracker.update({ user: 'listening' });
    expect(tracker.settle()).toEqual({ previous: 'processing', next: 'idle' });
    expect(tracker.settle()).toBeNull();
  });
});
