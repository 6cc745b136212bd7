/**
 * Redis restarted in the middle of a call, with the API on the Redis store: while it is down the
 * API answers 503 `store_unavailable` (never a 500); the agent's reports of the turn spoken
 * meanwhile are retried, and once Redis is back the feed has every event, in order, once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody, SessionEvent } from '../../common/protocol.js';
import { ScriptedCaller } from '../support/caller.js';
import { startTestStack, type TestStack } from '../support/harness.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { FeedSubscriber } from '../support/sse.js';

const seqs = (events: SessionEvent[]) => events.map((event) => event.seq);

describe('a Redis restart mid-call', () => {
  let redis: TestRedis;
  let stack: TestStack;

  beforeAll(async () => {
    redis = await startRedis();
    stack = await startTestStack({ REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await stack?.stop();
    await redis?.stop();
  });

  it('answers 503 store_unavailable while Redis is down and loses nothing of the call', async () => {
    const caller = await ScriptedCaller.join(stack.apiUrl);
    const { sessionId, sessionToken, eventsUrl } = caller.session;
    const feed = await FeedSubscriber.open(eventsUrl, sessionToken);
    try {
      await feed.waitFor((e) => e.event_type === 'session_started');
      await caller.waitForTurnState('idle', 0, 30_000);

      const before = feed.lastSeq;
      await redis.halt();
      const refused = await fetch(`${stack.apiUrl}/api/sessions/${sessionId}`, {
        headers: { authorization: `Bearer ${sessionToken}` },
      });
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as ErrorBody).error.code).toBe('store_unavailable');
      // A turn while the store is down: the agent answers, its reports wait for the store.
      stack.deepgram.scriptTranscripts(['Are you still there?']);
      const spoken = await caller.say('Are you still there?');
      await caller.waitForAgentSpeech(spoken);
      await redis.start();

      const answered = await feed.waitFor(
        (e) => e.event_type === 'conversation_item' && e.role === 'assistant' && e.seq > before,
        60_000,
        'the reply given while Redis was down',
      );
      const events = feed.events.filter((e) => e.seq <= answered.seq);
      expect(seqs(events)).toStrictEqual(events.map((_, index) => index + 1));
      expect(
        events.some(
          (e) =>
            e.event_type === 'conversation_item' &&
            e.seq > before &&
            e.text === 'Are you still there?',
        ),
      ).toBe(true);
    } finally {
      await feed.close();
      await caller.leave();
    }
  });
});
