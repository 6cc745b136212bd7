/**
 * Provider faults through the real stack: the provider test servers fail on purpose (a Deepgram
 * socket cut mid-utterance, LLM 429/500/timeouts, TTS errors before and after the first audio,
 * a provider that stays down) and each case checks what the caller hears, what the feed says, and
 * that the call recovers. One call per stack carries the cases in order; faults are set per case.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SessionEvent } from '../../common/protocol.js';
import {
  lastUserText,
  type OpenAIRoute,
  type OpenAIServer,
  startOpenAIServer,
} from '../providers/openai.js';
import { ScriptedCaller } from '../support/caller.js';
import { startTestStack, type TestStack } from '../support/harness.js';
import { FeedSubscriber } from '../support/sse.js';

const APOLOGY = "Sorry, I couldn't answer that. Please try again.";
const GOODBYE = "Sorry, I can't answer right now. Please call again later.";
const PROVIDER_ERRORS = new Set(['stt_unavailable', 'llm_unavailable', 'tts_unavailable']);
const MAX_RETRIES = 2;

/** Short timeouts and retry intervals, so a case takes seconds. */
const FAULT_SETTINGS = {
  // Test speech is synthesized on this machine, which takes a second or more under load.
  PROVIDER_TIMEOUT_MS: '4000',
  PROVIDER_MAX_RETRIES: String(MAX_RETRIES),
  PROVIDER_RETRY_INTERVAL_MS: '100',
  STT_STALL_TIMEOUT_MS: '1500',
  MAX_FAILED_TURNS: '2',
  ENDPOINTING_MAX_DELAY_MS: '1000',
};

type ErrorEvent = Extract<SessionEvent, { event_type: 'error' }>;
type FinishedEvent = Extract<SessionEvent, { event_type: 'agent_finished' }>;

/** One call through a stack: speaks turns and reads the feed from a mark on. */
class Call {
  private constructor(
    readonly stack: TestStack,
    readonly caller: ScriptedCaller,
    readonly feed: FeedSubscriber,
  ) {}

  static async start(stack: TestStack): Promise<Call> {
    const caller = await ScriptedCaller.join(stack.apiUrl);
    const feed = await FeedSubscriber.open(caller.session.eventsUrl, caller.session.sessionToken);
    await caller.waitForTurnState('idle', 0, 60_000);
    // The agent listens once its STT connection is open.
    await vi.waitFor(
      () => expect(stack.deepgram.connections.some((c) => c.closedAt === undefined)).toBe(true),
      { timeout: 30_000, interval: 100 },
    );
    return new Call(stack, caller, feed);
  }

  /** Says `question` (the test STT hears `transcripts`); answers the feed mark and speech end. */
  async say(question: string, transcripts = [question]) {
    this.stack.deepgram.scriptTranscripts(transcripts);
    const mark = this.feed.lastSeq;
    const spokenAt = await this.caller.say(question);
    return { mark, spokenAt };
  }

  /** The first agent turn to finish after `mark`, once its metrics closed it. */
  async finished(mark: number, timeoutMs = 30_000): Promise<FinishedEvent> {
    const finished = (await this.feed.waitFor(
      (e) => e.seq > mark && e.event_type === 'agent_finished',
      timeoutMs,
      'agent_finished',
    )) as FinishedEvent;
    await this.feed.waitFor(
      (e) => e.event_type === 'metrics' && e.turn_id === finished.turn_id,
      5000,
      'metrics',
    );
    return finished;
  }

  providerErrors(mark: number): Pick<ErrorEvent, 'error_code' | 'recoverable'>[] {
    return this.feed.events
      .filter((e): e is ErrorEvent => e.seq > mark && e.event_type === 'error')
      .filter((e) => PROVIDER_ERRORS.has(e.error_code))
      .map(({ error_code, recoverable }) => ({ error_code, recoverable }));
  }

  /** Asks, and checks that the answer is heard and is about the question. */
  async answers(question: string): Promise<void> {
    const { mark, spokenAt } = await this.say(question);
    await this.caller.waitForAgentSpeech(spokenAt);
    expect((await this.finished(mark)).text).toContain(question);
    expect(this.providerErrors(mark)).toEqual([]);
  }

  async end(): Promise<void> {
    // The API closes the feed of an ended session itself; aborting the request while the stream
    // closes can leave its read pending.
    if (!this.feed.events.some((e) => e.event_type === 'session_ended')) await this.feed.close();
    await this.caller.leave();
  }
}

const statuses = (server: OpenAIServer, route: OpenAIRoute, from: number) =>
  server.requests
    .slice(from)
    .filter((request) => request.route === route)
    .map((request) => (request.aborted ? 'aborted' : request.status));

const speechInputs = (server: OpenAIServer, from: number) =>
  server.requests
    .slice(from)
    .filter((request) => request.route === 'speech')
    .map((request) => (request.body as { input: string }).input);

describe('provider faults, one provider per stage', () => {
  let stack: TestStack;
  let call: Call;

  beforeAll(async () => {
    stack = await startTestStack(FAULT_SETTINGS);
    call = await Call.start(stack);
  });

  afterAll(async () => {
    await call?.end();
    await stack?.stop();
  });

  it('STT socket cut mid-utterance: reconnects and answers the cut-off utterance', async () => {
    const question = 'What is the capital of France?';
    const connections = stack.deepgram.connections.length;
    expect(stack.deepgram.dropLiveConnections({ afterSpeechMs: 300 })).toBe(1);
    // The cut connection takes the first transcript; the new one hears the utterance again.
    const { mark, spokenAt } = await call.say(question, [question, question]);

    await call.caller.waitForAgentSpeech(spokenAt, 30_000);
    expect((await call.finished(mark)).text).toContain(question);
    expect(stack.deepgram.connections).toHaveLength(connections + 1);
    const finals = call.feed.events.filter(
      (e) => e.seq > mark && e.event_type === 'transcription' && e.is_final,
    );
    expect(finals.map((e) => e.event_type === 'transcription' && e.text)).toEqual([question]);
    expect(call.providerErrors(mark)).toEqual([]);

    await call.answers('And where is Berlin?');
  });

  it('LLM 429 then 200: the request is retried and the turn answered', async () => {
    const from = stack.openai.requests.length;
    stack.openai.injectFault('chat', { kind: 'status', status: 429 });
    await call.answers('How tall is the Eiffel Tower?');
    expect(statuses(stack.openai, 'chat', from)).toEqual([429, 200]);
  });

  it('LLM timeout: the request is abandoned after the timeout, retried, and answered', async () => {
    const from = stack.openai.requests.length;
    stack.openai.injectFault('chat', { kind: 'timeout' });
    await call.answers('When was the Louvre built?');
    expect(statuses(stack.openai, 'chat', from)).toEqual(['aborted', 200]);
  });

  it('LLM 500 after every retry: an apology is heard, the feed says so, the next turn is answered', async () => {
    const from = stack.openai.requests.length;
    stack.openai.injectFault('chat', { kind: 'status', status: 500, times: MAX_RETRIES + 1 });
    const { mark, spokenAt } = await call.say('Which river flows through Paris?');

    await call.caller.waitForAgentSpeech(spokenAt);
    expect((await call.finished(mark)).text).toBe(APOLOGY);
    expect(call.providerErrors(mark)).toEqual([
      { error_code: 'llm_unavailable', recoverable: true },
    ]);
    expect(statuses(stack.openai, 'chat', from)).toEqual([500, 500, 500]);
    // The provider's own words ("500 Injected fault") stay in the agent's log.
    expect(call.feed.events.find((e) => e.seq > mark && e.event_type === 'error')).toMatchObject({
      error_message: 'The language model failed; this turn could not be completed.',
    });

    await call.answers('Which river flows through Paris?');
  });

  it('TTS 500 before the first audio: the sentence is requested again and heard', async () => {
    const from = stack.openai.requests.length;
    stack.openai.injectFault('speech', { kind: 'status', status: 500 });
    await call.answers('What is the tallest mountain?');
    expect(statuses(stack.openai, 'speech', from).slice(0, 2)).toEqual([500, 200]);
  });

  it('TTS cut after its first audio: the feed says so and the agent keeps listening', async () => {
    const from = stack.openai.requests.length;
    stack.openai.injectFault('speech', { kind: 'drop' });
    const { mark, spokenAt } = await call.say('Tell me about Lyon.');

    await call.caller.waitForAgentSpeech(spokenAt);
    await call.finished(mark);
    expect(call.providerErrors(mark)).toEqual([
      { error_code: 'tts_unavailable', recoverable: true },
    ]);
    // Audio had gone out: the cut sentence is not requested again.
    const inputs = speechInputs(stack.openai, from);
    expect(inputs.length).toBeGreaterThan(0);
    expect(new Set(inputs).size).toBe(inputs.length);

    await call.answers('Tell me about Marseille.');
  });

  it('an LLM that stays down ends the call after the run of failed turns', async () => {
    stack.openai.injectFault('chat', { kind: 'status', status: 500, times: Infinity });
    const first = await call.say('Are you there?');
    expect((await call.finished(first.mark)).text).toBe(APOLOGY);

    const second = await call.say('Hello, are you there?');
    expect((await call.finished(second.mark)).text).toBe(GOODBYE);
    const ended = await call.feed.waitFor(
      (e) => e.seq > second.mark && e.event_type === 'session_ended',
      30_000,
      'session_ended',
    );
    expect(ended).toMatchObject({ reason: 'provider_failures' });
    expect(call.providerErrors(first.mark)).toEqual([
      { error_code: 'llm_unavailable', recoverable: true },
      { error_code: 'llm_unavailable', recoverable: false },
    ]);
    stack.openai.clearFaults();
  });
});

describe('provider faults, with a fallback provider per stage', () => {
  let stack: TestStack;
  let backup: OpenAIServer;
  let call: Call;

  beforeAll(async () => {
    backup = await startOpenAIServer();
    backup.setReply((messages) => `The backup heard: "${lastUserText(messages)}".`);
    stack = await startTestStack({
      ...FAULT_SETTINGS,
      LLM_FALLBACK_BASE_URL: backup.url,
      TTS_FALLBACK_BASE_URL: backup.url,
      STT_FALLBACK_BASE_URL: backup.url,
      STT_FALLBACK_MODEL: 'whisper-1',
    });
    call = await Call.start(stack);
  });

  afterAll(async () => {
    await call?.end();
    await stack?.stop();
    await backup?.close();
  });

  it('LLM down: the fallback LLM answers', async () => {
    stack.openai.injectFault('chat', { kind: 'status', status: 500, times: Infinity });
    const { mark, spokenAt } = await call.say('Who painted the Mona Lisa?');

    await call.caller.waitForAgentSpeech(spokenAt);
    expect((await call.finished(mark)).text).toBe(
      'The backup heard: "Who painted the Mona Lisa?".',
    );
    expect(call.providerErrors(mark)).toEqual([]);
    expect(backup.chatRequests().at(-1)?.messages.at(-1)).toMatchObject({
      role: 'user',
      content: 'Who painted the Mona Lisa?',
    });
    stack.openai.clearFaults();
  });

  it('TTS down: the fallback TTS speaks', async () => {
    const from = backup.requests.length;
    stack.openai.injectFault('speech', { kind: 'status', status: 500, times: Infinity });
    await call.answers('What is the capital of Italy?');
    expect(statuses(backup, 'speech', from).length).toBeGreaterThan(0);
    stack.openai.clearFaults();
  });

  it('Deepgram gone: the fallback STT transcribes the next utterance', async () => {
    stack.deepgram.injectFault({ kind: 'reject', status: 503, times: Infinity });
    expect(stack.deepgram.dropLiveConnections({ afterSpeechMs: 300 })).toBe(1);
    // Cut off, and Deepgram refuses to take it back: this utterance is lost.
    await call.say('This sentence is lost.', ['This sentence is lost.']);
    await new Promise((resolve) => setTimeout(resolve, 4000));

    const question = 'What is the capital of Spain?';
    backup.scriptTranscriptions([question]);
    const { mark, spokenAt } = await call.say(question, []);
    await call.caller.waitForAgentSpeech(spokenAt);
    await call.finished(mark);
    expect(backup.requests.some((request) => request.route === 'transcriptions')).toBe(true);
    expect(backup.chatRequests().at(-1)?.messages.at(-1)).toMatchObject({ content: question });
    stack.deepgram.clearFaults();
  });
});
