/**
 * The session feed through the real stack: a caller talks to the agent over LiveKit while SSE
 * subscribers follow the session's events, reconnect with Last-Event-ID, and survive an API
 * restart without losing or repeating an event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEvent, TranscriptResponse } from '../../common/protocol.js';
import { ScriptedCaller } from '../support/caller.js';
import { startTestStack, type TestStack } from '../support/harness.js';
import { FeedSubscriber } from '../support/sse.js';

const FIRST = 'What is the capital of France?';
const SECOND = 'And how many people live there?';
const LONG_REPLY = Array.from(
  { length: 10 },
  (_, i) => `Lyon sits where two rivers meet, and this is sentence ${i + 1} about it.`,
).join(' ');
const INTERRUPTION = 'Please tell me something shorter.';

const ofType = <T extends SessionEvent['event_type']>(events: SessionEvent[], type: T) =>
  events.filter((e): e is Extract<SessionEvent, { event_type: T }> => e.event_type === type);

const isSubsequence = (wanted: string[], seen: string[]) => {
  let next = 0;
  for (const kind of seen) if (kind === wanted[next]) next += 1;
  return next === wanted.length;
};

/** The event kinds without the chatty ones, to compare the shape of a turn. */
const turnShape = (events: SessionEvent[]) =>
  events
    .filter((e) => !['agent_speaking', 'transcription'].includes(e.event_type))
    .map((e) => (e.event_type === 'state_change' ? `state:${e.new_state}` : e.event_type));

describe('session feed over a real call', () => {
  let stack: TestStack;
  let caller: ScriptedCaller;
  let feed: FeedSubscriber;

  const auth = () => ({ authorization: `Bearer ${caller.session.sessionToken}` });
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${stack.apiUrl}/api/sessions/${caller.session.sessionId}${path}`, {
      ...init,
      headers: { ...auth(), ...init.headers },
    });
  /** One spoken turn, waited for until the agent is idle again. */
  const speakTurn = async (text: string) => {
    stack.deepgram.scriptTranscripts([text]);
    const before = feed.lastSeq;
    await caller.say(text);
    await feed.waitFor((e) => e.event_type === 'metrics' && e.seq > before, 30_000, 'metrics');
  };

  beforeAll(async () => {
    stack = await startTestStack();
    caller = await ScriptedCaller.join(stack.apiUrl, { instructions: 'Be brief.' });
    feed = await FeedSubscriber.open(caller.session.eventsUrl, caller.session.sessionToken);
    await feed.waitFor((e) => e.event_type === 'state_change' && e.new_state === 'idle');
  });

  afterAll(async () => {
    await feed?.close();
    await caller?.leave();
    await stack?.stop();
  });

  it('streams two spoken turns completely and in order, matching the transcript', async () => {
    await speakTurn(FIRST);
    await speakTurn(SECOND);
    const events = feed.events;

    expect(feed.retryMs).toBeGreaterThan(0);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    for (const { event, id, name } of feed.received) {
      expect([id, name, event.session_id]).toEqual([
        String(event.seq),
        event.event_type,
        caller.session.sessionId,
      ]);
    }
    const turn = [
      'user_speaking',
      'state:userSpeaking',
      'state:processing',
      'conversation_item',
      'state:agentSpeaking',
      'conversation_item',
      'state:idle',
      'agent_finished',
      'metrics',
    ];
    // In this order; a VAD that splits an utterance adds a user_speaking/state pair in between.
    expect(
      isSubsequence(['session_started', 'state:idle', ...turn, ...turn], turnShape(events)),
    ).toBe(true);
    const count = (kind: string) => turnShape(events).filter((k) => k === kind).length;
    expect([count('conversation_item'), count('agent_finished'), count('metrics')]).toEqual([
      4, 2, 2,
    ]);

    const finals = ofType(events, 'transcription').filter((e) => e.is_final);
    expect(finals.map((e) => [e.text, e.is_interruption])).toEqual([
      [FIRST, false],
      [SECOND, false],
    ]);
    const [firstReply, secondReply] = ofType(events, 'agent_finished');
    expect(firstReply?.text).toContain(FIRST);
    const spoken = ofType(events, 'agent_speaking').filter(
      (e) => e.turn_id === firstReply?.turn_id,
    );
    expect(spoken.map((e) => e.delta).join('')).toBe(firstReply?.text);
    expect(secondReply?.interrupted).toBe(false);
    for (const metrics of ofType(events, 'metrics')) {
      expect(metrics.llm_ttft_ms).toBeGreaterThanOrEqual(0);
      expect(metrics.tts_ttfb_ms).toBeGreaterThanOrEqual(0);
      expect(metrics.voice_to_voice_ms).toBeGreaterThan(0);
      expect(metrics.end_of_utterance_ms).toBeGreaterThanOrEqual(0);
    }

    const transcript = (await (await api('/transcript')).json()) as TranscriptResponse;
    const items = ofType(events, 'conversation_item');
    expect(transcript.items).toEqual(
      items.map(({ item_id, role, text, source, timestamp }) => ({
        item_id,
        role,
        text,
        source,
        timestamp,
      })),
    );
    expect(transcript.items.map((i) => [i.role, i.source])).toEqual([
      ['user', 'voice'],
      ['assistant', 'voice'],
      ['user', 'voice'],
      ['assistant', 'voice'],
    ]);
    const session = await (await api('')).json();
    expect(session).toMatchObject({ state: 'idle', live: true, endedAt: null });
  });

  it('shows barge-in: an interrupting transcript, an interrupted reply, the turn to the user', async () => {
    stack.openai.setReply((messages) => {
      const last = messages.at(-1)?.content;
      return typeof last === 'string' && last.includes('shorter') ? 'Lyon is lovely.' : LONG_REPLY;
    });
    const before = feed.lastSeq;
    stack.deepgram.scriptTranscripts(['Tell me about Lyon.', INTERRUPTION]);
    await caller.say('Tell me about Lyon.');
    await feed.waitFor((e) => e.seq > before && e.event_type === 'agent_speaking', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await caller.say(INTERRUPTION);
    const interrupted = await feed.waitFor(
      (e) => e.seq > before && e.event_type === 'agent_finished' && e.interrupted,
      30_000,
      'interrupted agent_finished',
    );
    await feed.waitFor((e) => e.seq > interrupted.seq && e.event_type === 'metrics', 30_000);

    const events = feed.events.filter((e) => e.seq > before);
    expect(
      ofType(events, 'transcription').some(
        (e) => e.is_final && e.text === INTERRUPTION && e.is_interruption,
      ),
    ).toBe(true);
    const states = ofType(events, 'state_change').map((e) => [e.previous_state, e.new_state]);
    expect(states).toContainEqual(['agentSpeaking', 'userSpeaking']);
    expect((interrupted as { text: string }).text.length).toBeLessThan(LONG_REPLY.length);
  });

  it('replays every missed event exactly once after a reconnect, and after an API restart', async () => {
    const seenBefore = feed.lastSeq;
    await feed.close();

    stack.openai.setReply(() => 'A short answer.');
    stack.deepgram.scriptTranscripts(['Where is Marseille?']);
    const missedFrom = seenBefore + 1;
    await caller.say('Where is Marseille?');
    // Wait for the turn through a second subscriber, so the first really missed it.
    const watcher = await FeedSubscriber.open(
      caller.session.eventsUrl,
      caller.session.sessionToken,
      seenBefore,
    );
    const lastOfTurn = await watcher.waitFor((e) => e.event_type === 'metrics', 30_000);
    await watcher.close();

    const resumed = await FeedSubscriber.open(
      caller.session.eventsUrl,
      caller.session.sessionToken,
      seenBefore,
    );
    await resumed.waitFor((e) => e.seq === lastOfTurn.seq);
    expect(resumed.events.map((e) => e.seq).slice(0, lastOfTurn.seq - seenBefore)).toEqual(
      Array.from({ length: lastOfTurn.seq - seenBefore }, (_, i) => missedFrom + i),
    );
    await resumed.close();

    await stack.restart('api');
    const afterRestart = await FeedSubscriber.open(
      caller.session.eventsUrl,
      caller.session.sessionToken,
      seenBefore,
    );
    await afterRestart.waitFor((e) => e.seq === lastOfTurn.seq);
    expect(afterRestart.events.slice(0, lastOfTurn.seq - seenBefore)).toEqual(
      resumed.events.slice(0, lastOfTurn.seq - seenBefore),
    );

    // Events the agent reports after the restart reach the restarted API too.
    stack.deepgram.scriptTranscripts(['Thank you.']);
    await caller.say('Thank you.');
    await afterRestart.waitFor((e) => e.seq > lastOfTurn.seq && e.event_type === 'metrics');
    const seqs = afterRestart.events.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => missedFrom + i));
    feed = afterRestart;
  });

  it('ends the session on DELETE: session_ended on the feed, the agent leaves, the stream closes', async () => {
    const response = await api('', { method: 'DELETE' });
    expect(response.status).toBe(200);
    const ended = await feed.waitFor((e) => e.event_type === 'session_ended');
    expect(ended).toMatchObject({ reason: 'ended_by_client' });
    expect(await (await api('')).json()).toMatchObject({
      live: false,
      endedAt: expect.any(String),
    });
    expect((await api('/token', { method: 'POST' })).status).toBe(409);
    expect(ofType(feed.events, 'session_ended')).toHaveLength(1);
  });
});
