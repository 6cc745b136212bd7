/**
 * The mapping from agent-session events to feed events, driven by a stand-in session (the same
 * event names and payloads the framework emits), checking the kinds and order of what comes out.
 */
import { EventEmitter } from 'node:events';
import { llm, voice } from '@livekit/agents';
import { describe, expect, it } from 'vitest';
import type { SessionEventBody } from '../common/protocol.js';
import { reportSessionEvents } from './session-events.js';

const E = voice.AgentSessionEventTypes;

class FakeSpeech {
  interrupted = false;
  chatItems: llm.ChatItem[] = [];
  #done = false;
  #callbacks: ((speech: FakeSpeech) => void)[] = [];
  constructor(readonly id: string) {}
  done() {
    return this.#done;
  }
  addDoneCallback(callback: (speech: FakeSpeech) => void) {
    this.#callbacks.push(callback);
  }
  finish(reply: string, interrupted = false) {
    this.interrupted = interrupted;
    this.chatItems.push(
      llm.ChatMessage.create({
        role: 'assistant',
        content: reply,
        interrupted,
        metrics: { llmNodeTtft: 0.1, ttsNodeTtfb: 0.3, e2eLatency: 1.2 },
      }),
    );
    this.#done = true;
    for (const callback of this.#callbacks) callback(this);
  }
}

function harness(options: { cutOff?: () => boolean } = {}) {
  const session = Object.assign(new EventEmitter(), {
    agentState: 'listening' as voice.AgentState,
  });
  const events: SessionEventBody[] = [];
  const feed = reportSessionEvents(
    session as unknown as voice.AgentSession,
    {
      report: (event) => events.push(event),
    },
    { settleAfterMs: 10_000, ...options },
  );
  const agent = (state: voice.AgentState) => {
    session.emit(E.AgentStateChanged, { oldState: session.agentState, newState: state });
    session.agentState = state;
  };
  const user = (newState: voice.UserState, oldState: voice.UserState) =>
    session.emit(E.UserStateChanged, { oldState, newState });
  return { session, events, feed, agent, user };
}

const kinds = (events: SessionEventBody[]) =>
  events.map((e) => (e.event_type === 'state_change' ? `state:${e.new_state}` : e.event_type));

describe('reportSessionEvents', () => {
  it('reports one voice turn in order', () => {
    const { session, events, feed, agent, user } = harness();
    agent('listening');
    user('speaking', 'listening');
    session.emit(E.UserInputTranscribed, { transcript: 'hello there', isFinal: true });
    user('listening', 'speaking');
    agent('thinking');
    const speech = new FakeSpeech('speech_1');
    session.emit(E.SpeechCreated, { speechHandle: speech });
    session.emit(E.MetricsCollected, {
      metrics: {
        type: 'eou_metrics',
        speechId: 'speech_1',
        endOfUtteranceDelayMs: 500.4,
        transcriptionDelayMs: 200,
      },
    });
    agent('speaking');
    feed.onText('Hi ');
    feed.onText('you.');
    speech.finish('Hi you.');
    agent('listening');

    expect(kinds(events)).toEqual([
      'state:idle',
      'user_speaking',
      'state:userSpeaking',
      'transcription',
      'state:processing',
      'state:agentSpeaking',
      'agent_speaking',
      'agent_speaking',
      'agent_finished',
      'metrics',
      'state:idle',
    ]);
    expect(events[3]).toEqual({
      event_type: 'transcription',
      text: 'hello there',
      is_final: true,
      is_interruption: false,
    });
    expect(events[7]).toEqual({
      event_type: 'agent_speaking',
      text: 'Hi you.',
      delta: ' you.',
      turn_id: 'speech_1',
    });
    expect(events[8]).toEqual({
      event_type: 'agent_finished',
      turn_id: 'speech_1',
      interrupted: false,
      text: 'Hi you.',
    });
    expect(events[9]).toEqual({
      event_type: 'metrics',
      turn_id: 'speech_1',
      end_of_utterance_ms: 500,
      stt_ms: 200,
      llm_ttft_ms: 100,
      tts_ttfb_ms: 300,
      voice_to_voice_ms: 1200,
    });
  });

  it('marks speech over the agent as an interruption and the cut reply as interrupted', () => {
    const { session, events, feed, agent, user } = harness();
    const speech = new FakeSpeech('speech_2');
    session.emit(E.SpeechCreated, { speechHandle: speech });
    agent('speaking');
    feed.onText('A long');
    user('speaking', 'listening');
    session.emit(E.UserInputTranscribed, { transcript: 'stop', isFinal: false });
    speech.finish('A long', true);

    const transcription = events.find((e) => e.event_type === 'transcription');
    expect(transcription).toMatchObject({ is_interruption: true });
    expect(events.find((e) => e.event_type === 'agent_finished')).toMatchObject({
      interrupted: true,
    });
    expect(kinds(events).filter((k) => k.startsWith('state:'))).toEqual([
      'state:agentSpeaking',
      'state:userSpeaking',
    ]);
  });

  it('gives words still draining from a cut-off reply to no turn, and the next reply its own', () => {
    const { session, events, feed, agent } = harness();
    const first = new FakeSpeech('speech_a');
    session.emit(E.SpeechCreated, { speechHandle: first });
    agent('speaking');
    feed.onText('A long ');
    agent('listening');
    first.finish('A long', true);
    feed.onText('tail ');
    const second = new FakeSpeech('speech_b');
    session.emit(E.SpeechCreated, { speechHandle: second });
    agent('speaking');
    feed.onText('Lyon.');
    expect(events.filter((e) => e.event_type === 'agent_speaking')).toEqual([
      { event_type: 'agent_speaking', text: 'A long', delta: 'A long', turn_id: 'speech_a' },
      { event_type: 'agent_speaking', text: 'Lyon.', delta: 'Lyon.', turn_id: 'speech_b' },
    ]);
  });

  it("gives each word as a delta and the sentence so far, so a reply's events grow linearly", () => {
    /** Plays a reply of `count` words (ten to a sentence) and keeps what the feed got. */
    const speak = (count: number) => {
      const { session, events, feed, agent } = harness();
      const speech = new FakeSpeech(`speech_${count}`);
      session.emit(E.SpeechCreated, { speechHandle: speech });
      agent('speaking');
      const words = Array.from({ length: count }, (_, n) => `word${n}${n % 10 === 9 ? '.' : ''}`);
      // Pieces as the synchronizer forwards them: each word with the whitespace before it.
      for (const [n, word] of words.entries()) feed.onText(n === 0 ? word : ` ${word}`);
      const reply = words.join(' ');
      speech.finish(reply);
      const spoken = events.filter((e) => e.event_type === 'agent_speaking');
      const bytes = spoken.reduce((sum, e) => sum + JSON.stringify(e).length, 0);
      return { events, spoken, words, reply, bytes };
    };
    const { events, spoken, words, reply, bytes } = speak(200);
    expect(spoken).toHaveLength(200);
    expect(spoken.map((e) => e.delta).join('')).toBe(reply);
    expect(spoken[10]).toMatchObject({ text: 'word10', delta: ' word10' });
    expect(spoken[19]?.text).toBe(words.slice(10, 20).join(' '));
    expect(events.find((e) => e.event_type === 'agent_finished')).toMatchObject({ text: reply });
    // The whole reply so far on every word would be about 100 replies' worth, and twice the words
    // four times the bytes; a sentence per event keeps both linear.
    expect(bytes).toBeLessThan(20 * reply.length);
    expect(speak(400).bytes).toBeLessThan(2.2 * bytes);
  });

  it('reports no finished turn for a reply that was never played', () => {
    const { session, events } = harness();
    const speech = new FakeSpeech('speech_3');
    session.emit(E.SpeechCreated, { speechHandle: speech });
    speech.finish('never heard', true);
    expect(kinds(events)).toEqual([]);
  });

  it('reports conversation items with their source, and the end of the session', () => {
    const { session, events } = harness();
    const message = llm.ChatMessage.create({ role: 'user', content: 'typed words' });
    session.emit(E.ConversationItemAdded, { item: message });
    session.emit(E.Close, { reason: 'participant_disconnected' });
    expect(events).toEqual([
      {
        event_type: 'conversation_item',
        role: 'user',
        text: 'typed words',
        source: 'voice',
        item_id: message.id,
      },
      { event_type: 'session_ended', reason: 'participant_disconnected' },
    ]);
  });

  it('names provider failures as the reason when the framework closes on an error', () => {
    const { session, events } = harness();
    session.emit(E.Close, { reason: voice.CloseReason.ERROR });
    expect(events).toEqual([{ event_type: 'session_ended', reason: 'provider_failures' }]);
  });

  it('reports a call the job was cut off from as agent_disconnected, and does not end it', () => {
    let cutOff = false;
    const { session, events, agent } = harness({ cutOff: () => cutOff });
    agent('speaking');
    events.length = 0;
    cutOff = true;
    session.emit(E.Close, { reason: voice.CloseReason.USER_INITIATED });
    expect(events).toEqual([
      {
        event_type: 'error',
        error_code: 'agent_disconnected',
        error_message: expect.any(String),
        recoverable: true,
      },
      { event_type: 'state_change', new_state: 'idle', previous_state: 'agentSpeaking' },
    ]);
  });
});
