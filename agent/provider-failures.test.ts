/**
 * The rules for provider failures: one feed error per turn and stage, an apology when the LLM
 * could not answer, the call ended after the configured run of failed turns. Driven by a
 * stand-in session with the framework's event names and payloads.
 */
import { EventEmitter } from 'node:events';
import { voice } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import type { SessionEventBody } from '../common/protocol.js';
import { APOLOGY, GOODBYE, handleProviderFailures, TurnFailures } from './provider-failures.js';

const E = voice.AgentSessionEventTypes;

describe('TurnFailures', () => {
  it('reports a stage once per turn and apologizes only for the LLM', () => {
    const failures = new TurnFailures(3);
    expect(failures.failed('t1', 'llm')).toEqual({ report: true, apologize: true, endCall: false });
    expect(failures.failed('t1', 'llm')).toEqual({
      report: false,
      apologize: false,
      endCall: false,
    });
    expect(failures.failed('t1', 'tts')).toEqual({
      report: true,
      apologize: false,
      endCall: false,
    });
    expect(failures.failed('t2', 'tts').apologize).toBe(false);
  });

  it('ends the call after the run of failed turns; an answered turn breaks the run', () => {
    const failures = new TurnFailures(2);
    failures.failed('t1', 'llm');
    failures.finished('t1');
    failures.finished('t2');
    expect(failures.failed('t3', 'llm').endCall).toBe(false);
    failures.finished('t3');
    expect(failures.failed('t4', 'tts').endCall).toBe(true);
  });

  it('ends the call at once when speech recognition is gone', () => {
    expect(new TurnFailures(3).failed('t1', 'stt')).toMatchObject({ report: true, endCall: true });
  });
});

class FakeSpeech {
  #done = false;
  #callbacks: ((speech: FakeSpeech) => void)[] = [];
  constructor(readonly id: string) {}
  done() {
    return this.#done;
  }
  addDoneCallback(callback: (speech: FakeSpeech) => void) {
    this.#callbacks.push(callback);
  }
  finish() {
    this.#done = true;
    for (const callback of this.#callbacks) callback(this);
  }
}

function harness(maxFailedTurns = 3) {
  const said: string[] = [];
  const shutdowns: unknown[] = [];
  let next = 0;
  const session = Object.assign(new EventEmitter(), {
    say(text: string) {
      said.push(text);
      const speech = new FakeSpeech(`apology_${++next}`);
      session.emit(E.SpeechCreated, { speechHandle: speech });
      return speech;
    },
    shutdown(options: unknown) {
      shutdowns.push(options);
    },
  });
  const events: SessionEventBody[] = [];
  handleProviderFailures(
    session as unknown as voice.AgentSession,
    { report: (event) => events.push(event) },
    { maxFailedTurns, log: { warn: () => {} } },
  );
  const turn = (id: string) => {
    const speech = new FakeSpeech(id);
    session.emit(E.SpeechCreated, { speechHandle: speech });
    return speech;
  };
  const fail = (type: string, recoverable = false) =>
    session.emit(E.Error, {
      error: { type, recoverable, error: new Error('sk-secret upstream 500: provider text') },
    });
  return { session, events, said, shutdowns, turn, fail };
}

describe('handleProviderFailures', () => {
  it('apologizes for a turn the LLM could not answer, and reports it without provider text', () => {
    const { events, said, shutdowns, turn, fail } = harness();
    const speech = turn('speech_1');
    fail('llm_error', true);
    fail('llm_error');
    speech.finish();

    expect(events).toEqual([
      {
        event_type: 'error',
        error_code: 'llm_unavailable',
        error_message: 'The language model failed; this turn could not be completed.',
        recoverable: true,
      },
    ]);
    expect(said).toEqual([APOLOGY]);
    expect(shutdowns).toEqual([]);
  });

  it('counts a failed apology with the turn it apologizes for', () => {
    const { events, said, turn, fail } = harness(2);
    const speech = turn('speech_1');
    fail('llm_error');
    speech.finish();
    fail('tts_error');
    fail('tts_error');

    expect(events.map((e) => e.event_type === 'error' && [e.error_code, e.recoverable])).toEqual([
      ['llm_unavailable', true],
      ['tts_unavailable', true],
    ]);
    expect(said).toEqual([APOLOGY]);
  });

  it('ends the call with a goodbye after the run of failed turns', () => {
    const { events, said, shutdowns, turn, fail } = harness(2);
    const first = turn('speech_1');
    fail('tts_error');
    first.finish();
    turn('speech_2');
    fail('llm_error');

    expect(events.at(-1)).toEqual({
      event_type: 'error',
      error_code: 'llm_unavailable',
      error_message: 'The language model is unavailable; the call is ending.',
      recoverable: false,
    });
    expect(said).toEqual([GOODBYE]);
    expect(shutdowns).toEqual([{ drain: true, reason: 'provider_failures' }]);
  });

  it('reports lost speech recognition as the end of the call, which the framework closes', () => {
    const { events, shutdowns, fail } = harness();
    fail('stt_error');
    expect(events).toEqual([
      expect.objectContaining({ error_code: 'stt_unavailable', recoverable: false }),
    ]);
    expect(shutdowns).toEqual([]);
  });
});
