/**
 * Two API replicas on one Redis, through the real stack: LiveKit, the agent worker, and a failover
 * proxy in front of the replicas as a load balancer (the agent reports its events through it). A
 * call's feed on replica B follows what its agent reports; replica A is killed with SIGKILL
 * mid-call; the feed on B goes on, a subscriber of A reconnects to B with Last-Event-ID and loses
 * and repeats nothing, and chat through B is answered in the same conversation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatResponse, SessionEvent } from '../../common/protocol.js';
import { echoUserMessages } from '../providers/openai.js';
import { ScriptedCaller } from '../support/caller.js';
import { type ExtraService, startApiReplica } from '../support/extra-services.js';
import { type FailoverProxy, startFailoverProxy } from '../support/failover-proxy.js';
import { startTestStack, type TestStack } from '../support/harness.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { FeedSubscriber } from '../support/sse.js';

const seqs = (events: SessionEvent[]) => events.map((event) => event.seq);
const counting = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, index) => from + index);

describe('two API replicas on one Redis', () => {
  let redis: TestRedis;
  let proxy: FailoverProxy;
  let stack: TestStack;
  let replicaB: ExtraService;

  beforeAll(async () => {
    redis = await startRedis();
    proxy = await startFailoverProxy();
    stack = await startTestStack({ REDIS_URL: redis.url, API_URL: proxy.url });
    replicaB = await startApiReplica(stack, 'api-b');
    proxy.upstreams = [stack.ports.api, replicaB.port];
  });
  afterAll(async () => {
    await stack?.stop();
    await replicaB?.stop();
    await proxy?.close();
    await redis?.stop();
  });

  it('keeps a call going through replica B when replica A is killed mid-call', async () => {
    // Through the balancer, which sends it to A while A is up.
    const caller = await ScriptedCaller.join(proxy.url);
    const { sessionId, sessionToken } = caller.session;
    const feedUrl = (apiUrl: string) => `${apiUrl}/api/sessions/${sessionId}/events`;
    const onA = await FeedSubscriber.open(feedUrl(stack.apiUrl), sessionToken);
    const onB = await FeedSubscriber.open(feedUrl(replicaB.url), sessionToken);
    let resumed: FeedSubscriber | undefined;
    try {
      await onB.waitFor((e) => e.event_type === 'session_started');
      await caller.waitForTurnState('idle', 0, 30_000);
      stack.deepgram.scriptTranscripts(['My name is Ada.']);
      const spoken = await caller.say('My name is Ada.');
      await caller.waitForAgentSpeech(spoken);
      await onB.waitFor((e) => e.event_type === 'metrics', 30_000);

      process.kill(stack.pid('api') as number, 'SIGKILL');
      await onA.ended;
      resumed = await FeedSubscriber.open(feedUrl(replicaB.url), sessionToken, onA.lastSeq);

      stack.openai.setReply(echoUserMessages);
      const response = await fetch(`${replicaB.url}/api/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${sessionToken}` },
        body: JSON.stringify({ message: 'What is my name?', sessionId }),
      });
      expect(response.status).toBe(200);
      const reply = (await response.json()) as ChatResponse;
      expect(reply.message).toBe('You told me: My name is Ada. / What is my name?');

      const answered = (e: SessionEvent) =>
        e.event_type === 'conversation_item' && e.role === 'assistant' && e.text === reply.message;
      const last = (await onB.waitFor(answered)).seq;
      await resumed.waitFor(answered);
      // B's feed went on through A's death, seq by seq; A's subscriber, resumed on B, has each
      // event once.
      expect(seqs(onB.events).slice(0, last)).toStrictEqual(counting(1, last));
      const rejoined = [...onA.events, ...resumed.events].filter((e) => e.seq <= last);
      expect(seqs(rejoined)).toStrictEqual(counting(1, last));
      expect(rejoined).toStrictEqual(onB.events.slice(0, last));
    } finally {
      await Promise.all([onA.close(), onB.close(), resumed?.close()]);
      await caller.leave();
    }
  });
});
