/** The transcript the page builds from feed events and its own chat messages: one line each. */
import { describe, expect, it } from 'vitest';
import type { SessionEvent, SessionEventBody } from '../../../common/protocol';
import { initialFeedState, reduceFeed } from './feedState';
import { type ChatAction, describeToolUse } from './transcript';

let seq = 0;
const event = (body: SessionEventBody, sessionId = 's1'): SessionEvent =>
  ({
    ...body,
    session_id: sessionId,
    seq: ++seq,
    timestamp: '2030-01-01T00:00:00.000Z',
  }) as SessionEvent;

type Step = SessionEvent | ChatAction;
const run = (...steps: Step[]) =>
  steps.reduce(
    (state, step) =>
      'event_type' in step
        ? reduceFeed(state, { type: 'event', event: step })
        : reduceFeed(state, { type: 'chat', action: step }),
    initialFeedState,
  );
const shown = (...steps: Step[]) =>
  run(...steps).lines.map(({ role, text, final, interrupted, source }) => ({
    role,
    text,
    final,
    ...(interrupted && { interrupted }),
    source,
  }));

const heard = (text: string, isFinal: boolean) =>
  event({ event_type: 'transcription', text, is_final: isFinal, is_interruption: false });
const item = (role: 'user' | 'assistant', text: string, source: 'voice' | 'text', id: string) =>
  event({ event_type: 'conversation_item', role, text, source, item_id: id });
/** The words added to the turn's reply; the event's `text` is the sentence, unused here. */
const speaking = (delta: string, turn = 't1') =>
  event({ event_type: 'agent_speaking', text: delta.trim(), delta, turn_id: turn });
const finished = (text: string, interrupted: boolean, turn = 't1') =>
  event({ event_type: 'agent_finished', text, interrupted, turn_id: turn });

describe('voice turns', () => {
  it('grows interim text into one final line that the conversation item takes over', () => {
    const steps = [heard('what is', false), heard('what is the weather', false)];
    expect(shown(...steps)).toEqual([
      { role: 'user', text: 'what is the weather', final: false, source: 'voice' },
    ]);
    const settled = [...steps, heard('what is the weather', true), heard('today', false)];
    expect(shown(...settled)[0]?.text).toBe('what is the weather today');
    const committed = run(...settled, item('user', 'What is the weather today?', 'voice', 'i1'));
    expect(committed.lines).toHaveLength(1);
    expect(committed.lines[0]).toMatchObject({ text: 'What is the weather today?', final: true });
  });

  it("shows the agent's words as spoken, marks an interruption, and keeps one line per turn", () => {
    expect(shown(speaking('It is'), speaking(' sunny.'), speaking(' Warm', 't1'))).toEqual([
      { role: 'assistant', text: 'It is sunny. Warm', final: false, source: 'voice' },
    ]);
    expect(
      shown(speaking('It is'), item('assistant', 'It is', 'voice', 'a1'), finished('It is', true)),
    ).toEqual([
      { role: 'assistant', text: 'It is', final: true, interrupted: true, source: 'voice' },
    ]);
  });

  it('applies each event once, however often a reconnect delivers it', () => {
    const first = heard('hello', true);
    const state = run(first, first, item('user', 'hello', 'voice', 'i1'));
    expect(state.lines).toHaveLength(1);
    expect(state.lastSeq).toBe(seq);
  });
});

describe('typed messages', () => {
  it('streams a reply without a call; the log then takes over both lines', () => {
    const lines = shown(
      { type: 'sent', chatId: '1', text: 'Hi' },
      { type: 'delta', chatId: '1', text: 'Hel' },
      { type: 'delta', chatId: '1', text: 'lo!' },
      { type: 'done', chatId: '1', text: 'Hello!' },
      item('user', 'Hi', 'text', 'u1'),
      item('assistant', 'Hello!', 'text', 'a1'),
    );
    expect(lines).toEqual([
      { role: 'user', text: 'Hi', final: true, source: 'text' },
      { role: 'assistant', text: 'Hello!', final: true, source: 'text' },
    ]);
  });

  it('shows a reply once when its conversation item arrives before its stream', () => {
    const itemFirst = [
      { type: 'sent', chatId: '1', text: 'Hi' },
      item('user', 'Hi', 'text', 'u1'),
      item('assistant', 'Hello!', 'text', 'a1'),
      { type: 'delta', chatId: '1', text: 'Hello!' },
      { type: 'done', chatId: '1', text: 'Hello!' },
    ] satisfies Step[];
    expect(shown(...itemFirst)).toEqual([
      { role: 'user', text: 'Hi', final: true, source: 'text' },
      { role: 'assistant', text: 'Hello!', final: true, source: 'text' },
    ]);
    // Someone else's message said in between keeps its own reply.
    const otherReply = shown(
      { type: 'sent', chatId: '1', text: 'Hi' },
      item('user', 'Hi', 'text', 'u1'),
      item('user', 'From another tab', 'text', 'u2'),
      item('assistant', 'Hello, other tab!', 'text', 'a2'),
      { type: 'delta', chatId: '1', text: 'Hello!' },
    );
    expect(otherReply.map((line) => line.text)).toEqual([
      'Hi',
      'From another tab',
      'Hello, other tab!',
      'Hello!',
    ]);
  });

  it('during a call shows the spoken reply once, whichever arrives first', () => {
    const spokenFirst = shown(
      { type: 'sent', chatId: '1', text: 'Hi' },
      item('user', 'Hi', 'text', 'u1'),
      speaking('Hello', 't9'),
      { type: 'delta', chatId: '1', text: 'Hello' },
      { type: 'done', chatId: '1', text: 'Hello' },
    );
    const streamedFirst = shown(
      { type: 'sent', chatId: '1', text: 'Hi' },
      { type: 'delta', chatId: '1', text: 'Hello' },
      item('user', 'Hi', 'text', 'u1'),
      speaking('Hello', 't9'),
      finished('Hello', false, 't9'),
    );
    for (const lines of [spokenFirst, streamedFirst]) {
      expect(lines.map((line) => line.role)).toEqual(['user', 'assistant']);
    }
  });

  it('shows a spoken reply that takes over the streamed draft from its first spoken words', () => {
    const lines = shown(
      { type: 'sent', chatId: '1', text: 'Hi' },
      { type: 'delta', chatId: '1', text: 'Hello there' },
      speaking('Hello', 't9'),
      speaking(' there', 't9'),
    );
    expect(lines.map((line) => line.text)).toEqual(['Hi', 'Hello there']);
  });

  it('takes back a message that did not get through', () => {
    const lines = shown(
      { type: 'sent', chatId: '1', text: 'Hi' },
      { type: 'delta', chatId: '1', text: 'Hel' },
      { type: 'failed', chatId: '1' },
    );
    expect(lines).toEqual([]);
  });
});

describe('session state', () => {
  it('follows the turn state, keeps the newest metrics first, and ends idle', () => {
    const metrics = (turn: string) =>
      event({
        event_type: 'metrics',
        turn_id: turn,
        end_of_utterance_ms: null,
        stt_ms: null,
        llm_ttft_ms: 40,
        tts_ttfb_ms: 60,
        voice_to_voice_ms: 700,
      });
    const change = event({
      event_type: 'state_change',
      new_state: 'agentSpeaking',
      previous_state: 'processing',
    });
    const state = run(change, metrics('t1'), metrics('t2'));
    expect(state.turnState).toBe('agentSpeaking');
    expect(state.metrics.map((turn) => turn.turnId)).toEqual(['t2', 't1']);
    const ended = reduceFeed(state, {
      type: 'event',
      event: event({ event_type: 'session_ended', reason: 'ended_by_client' }),
    });
    expect(ended).toMatchObject({ endReason: 'ended_by_client', turnState: 'idle' });
  });

  it("keeps a chat's lines when the session it opened starts reporting", () => {
    const state = run(
      { type: 'sent', chatId: '1', text: 'Hi' },
      { ...item('user', 'Hi', 'text', 'u1'), session_id: 'new-session' },
    );
    expect(state.sessionId).toBe('new-session');
    expect(state.lines).toHaveLength(1);
  });
});

describe('tools', () => {
  const called = (callId: string, name = 'get_weather', args: Record<string, unknown> = {}) =>
    event({ event_type: 'tool_call', call_id: callId, name, arguments: args });
  const result = (callId: string, ok: boolean, ms = 120, name = 'get_weather') =>
    event({ event_type: 'tool_result', call_id: callId, name, ok, duration_ms: ms });
  const failed = (name = 'get_weather') =>
    event({
      event_type: 'error',
      error_code: 'tool_failed',
      error_message: `The tool ${name} failed: HTTP 500`,
      recoverable: true,
    });
  /** The lines as the page words them: a tool line by its text, a message by who said what. */
  const said = (...steps: Step[]) =>
    run(...steps).lines.map((line) =>
      line.tool ? `[${describeToolUse(line.tool)}]` : `${line.role}: ${line.text}`,
    );

  it('shows a compact line where the call happened, the same line finished by its result', () => {
    const question = [
      heard('weather in Paris', true),
      item('user', 'Weather in Paris?', 'voice', 'u1'),
    ];
    const call = called('call_1', 'get_weather', { city: 'Paris' });
    expect(said(...question, call)).toEqual([
      'user: Weather in Paris?',
      '[Looking up get weather…]',
    ]);
    const answered = [
      ...question,
      call,
      result('call_1', true, 120),
      speaking('It is sunny.'),
      finished('It is sunny.', false),
      item('assistant', 'It is sunny.', 'voice', 'a1'),
    ];
    expect(said(...answered)).toEqual([
      'user: Weather in Paris?',
      '[Looked up get weather · 120 ms]',
      'assistant: It is sunny.',
    ]);
    const state = run(...answered);
    expect(state.lines[1]).toMatchObject({ key: 'tool-call_1', role: 'tool', final: true });
    // The reply's item took over the spoken line, not the tool's.
    expect(state.lines[2]).toMatchObject({ itemId: 'a1', turnId: 't1' });
  });

  it('says a failed call on its line, without a notice over the call', () => {
    const state = run(called('call_1'), result('call_1', false, 2300), failed());
    expect(state.lines[0]?.tool?.durationMs).toBe(2300);
    expect(state.lines.map((line) => line.tool && describeToolUse(line.tool))).toEqual([
      'Could not look up get weather',
    ]);
    expect(state.lines[0]?.tool?.status).toBe('failed');
    expect(state.agentError).toBeUndefined();
    // Other recoverable errors still show their notice.
    const call = called('call_1');
    const other = event({
      event_type: 'error',
      error_code: 'llm_unavailable',
      error_message: 'The LLM did not answer',
      recoverable: true,
    });
    expect(run(call, other).agentError).toEqual({
      message: 'The LLM did not answer',
      recoverable: true,
    });
  });

  it('shows the same lines live and replayed, however often a reconnect delivers them', () => {
    const steps = [
      heard('weather', true),
      called('call_1'),
      called('call_2', 'find_flight'),
      result('call_2', true, 1500, 'find_flight'),
      result('call_1', false),
      failed(),
      item('user', 'Weather?', 'voice', 'u1'),
      speaking('Sorry.'),
    ];
    const expected = [
      'user: Weather?',
      '[Could not look up get weather]',
      '[Looked up find flight · 1.5 s]',
      'assistant: Sorry.',
    ];
    expect(said(...steps)).toEqual(expected);
    // A reconnect resumes after an earlier seq than the page had, and replays from there.
    expect(said(...steps.slice(0, 4), ...steps.slice(1))).toEqual(expected);
    // The same call reported twice under new numbers still shows once.
    const again = { ...steps[1], seq: ++seq } as SessionEvent;
    expect(said(...steps, again)).toEqual(expected);
  });

  it('keeps one line per call id, and shows a result whose call is missing', () => {
    // A retried report can deliver a call or its result again, under new numbers.
    const call = called('call_1');
    const done = result('call_1', true, 5);
    const again = (step: SessionEvent) => ({ ...step, seq: ++seq }) as SessionEvent;
    const lines = run(call, done, again(call), again(done)).lines;
    expect(lines.map((line) => line.tool && describeToolUse(line.tool))).toEqual([
      'Looked up get weather · 5 ms',
    ]);
    expect(said(result('call_9', true, 40))).toEqual(['[Looked up get weather · 40 ms]']);
  });

  it('puts the call between a typed message and its streamed reply', () => {
    expect(
      said(
        { type: 'sent', chatId: '1', text: 'Weather?' },
        called('call_1'),
        result('call_1', true),
        { type: 'delta', chatId: '1', text: 'Sunny.' },
        { type: 'done', chatId: '1', text: 'Sunny.' },
        item('user', 'Weather?', 'text', 'u1'),
        item('assistant', 'Sunny.', 'text', 'a1'),
      ),
    ).toEqual(['user: Weather?', '[Looked up get weather · 120 ms]', 'assistant: Sunny.']);
    // Replayed from the log alone (another tab, a reload), the order is the same.
    expect(
      said(
        item('user', 'Weather?', 'text', 'u1'),
        called('call_1'),
        result('call_1', true),
        item('assistant', 'Sunny.', 'text', 'a1'),
      ),
    ).toEqual(['user: Weather?', '[Looked up get weather · 120 ms]', 'assistant: Sunny.']);
  });

  it('keeps the arguments out of the text, shortened for a tooltip', () => {
    const state = run(called('call_1', 'lookup-order', { note: 'x'.repeat(1000) }));
    const tool = state.lines[0]?.tool;
    expect(tool && describeToolUse(tool)).toBe('Looking up lookup order…');
    expect(tool?.arguments?.length).toBe(300);
    expect(tool?.arguments?.startsWith('{"note":"xxx')).toBe(true);
  });

  it('stops a call still running when the session ends', () => {
    const call = called('call_1');
    const ended = event({ event_type: 'session_ended', reason: 'ended_by_client' });
    expect(said(call, ended)).toEqual(['[Stopped looking up get weather]']);
    const gaveUp = reduceFeed(run(called('call_1')), { type: 'ended', reason: 'ended' });
    expect(gaveUp.lines[0]?.tool?.status).toBe('stopped');
  });
});
