/**
 * Several calls per job process (AGENT_JOBS_PER_PROCESS=4) on the real stack: two concurrent calls
 * are each answered by an agent running in the same job process, and killing that process costs
 * both calls their agent only until the API's call recovery brings each a new one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../common/protocol.js';
import { ScriptedCaller } from '../support/caller.js';
import { startTestStack, type TestStack } from '../support/harness.js';
import { childrenOf, jobProcessesInCalls } from '../support/processes.js';
import { FeedSubscriber } from '../support/sse.js';

/** As in process-faults.test.ts: a busy two-core machine can take long to start a job. */
const JOIN_TIMEOUT_S = 30;

const isIdle = (event: SessionEvent) =>
  event.event_type === 'state_change' && event.new_state === 'idle';

describe('several calls in one job process', () => {
  let stack: TestStack;
  const callers: ScriptedCaller[] = [];
  const feeds: FeedSubscriber[] = [];

  const joinCall = async () => {
    const caller = await ScriptedCaller.join(stack.apiUrl);
    callers.push(caller);
    const feed = await FeedSubscriber.open(caller.session.eventsUrl, caller.session.sessionToken);
    feeds.push(feed);
    await feed.waitFor(isIdle, 3 * JOIN_TIMEOUT_S * 1000, 'the agent');
    return { caller, feed };
  };
  /** One spoken turn; calls take turns, since the Deepgram test server's script is shared. */
  const speakTurn = async (
    call: { caller: ScriptedCaller; feed: FeedSubscriber },
    text: string,
  ) => {
    stack.deepgram.scriptTranscripts([text]);
    const before = call.feed.lastSeq;
    await call.caller.say(text);
    return call.feed.waitFor(
      (e) => e.seq > before && e.event_type === 'agent_finished',
      60_000,
      text,
    );
  };

  beforeAll(async () => {
    stack = await startTestStack({
      AGENT_JOBS_PER_PROCESS: '4',
      AGENT_JOIN_TIMEOUT_S: String(JOIN_TIMEOUT_S),
    });
  });

  afterAll(async () => {
    await Promise.all(feeds.map((feed) => feed.close()));
    await Promise.all(callers.map((caller) => caller.leave().catch(() => {})));
    await stack?.stop();
  });

  it('answers two concurrent calls from one job process, and brings both back when it is killed', async () => {
    stack.openai.setReply((messages) => {
      const last = messages.at(-1)?.content;
      return `You said: ${typeof last === 'string' ? last : ''}`;
    });
    const calls = await Promise.all([joinCall(), joinCall()]);
    const [first, second] = calls as [(typeof calls)[0], (typeof calls)[0]];
    expect(await speakTurn(first, 'Hello from the first call.')).toMatchObject({
      text: 'You said: Hello from the first call.',
      interrupted: false,
    });
    expect(await speakTurn(second, 'Hello from the second call.')).toMatchObject({
      text: 'You said: Hello from the second call.',
      interrupted: false,
    });

    // Both agents live in one child of the worker (a spare may be waiting beside it, idle).
    const worker = stack.pid('agent') as number;
    const inCalls = jobProcessesInCalls(stack);
    expect(inCalls).toHaveLength(1);
    const shared = inCalls[0] as number;
    expect(childrenOf(worker)).toContain(shared);

    const killedAt = Date.now();
    process.kill(shared, 'SIGKILL');
    for (const { feed } of calls) {
      const lost = await feed.waitFor((e) => e.event_type === 'error', 90_000, 'agent_lost');
      expect(lost).toMatchObject({ error_code: 'agent_lost', recoverable: true });
      const restarted = await feed.waitFor(
        (e) => e.event_type === 'session_started' && e.seq > lost.seq,
        3 * JOIN_TIMEOUT_S * 1000,
        'the new agent',
      );
      await feed.waitFor((e) => e.seq > restarted.seq && isIdle(e), 30_000, 'the new agent idle');
    }
    const backAt = Date.now();
    expect(await speakTurn(first, 'Are you back?')).toMatchObject({
      text: 'You said: Are you back?',
      interrupted: false,
    });
    expect(await speakTurn(second, 'And here?')).toMatchObject({
      text: 'You said: And here?',
      interrupted: false,
    });
    // The new agents share a process again, not the killed one.
    const after = jobProcessesInCalls(stack);
    expect(after).toHaveLength(1);
    expect(after).not.toContain(shared);
    console.info(`shared process killed: both calls had new agents ${backAt - killedAt} ms later`);
  }, 300_000);
});
