/**
 * Two livekit-server nodes sharing rooms through Redis, and two agent workers, one registered with
 * each node, every worker full at 3 calls (AGENT_MAX_CALLS): six calls are spread over both; the
 * calls of a worker killed with SIGKILL (its job processes with it) get new agents from the other,
 * which know the conversation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatResponse } from '../../common/protocol.js';
import { echoUserMessages } from '../providers/openai.js';
import { ScriptedCaller } from '../support/caller.js';
import { type ExtraService, startLivekitNode, startWorker } from '../support/extra-services.js';
import { startTestStack, type TestStack } from '../support/harness.js';
import { readServiceLog } from '../support/logs.js';
import { startRedis, type TestRedis } from '../support/redis.js';

const CALLS_PER_WORKER = 3;
/** Longer than the worker's load report interval (2.5 s), so each call sees the last one's load. */
const JOIN_STAGGER_MS = 3000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('two LiveKit nodes and two agent workers', () => {
  let redis: TestRedis;
  let stack: TestStack;
  let nodeB: ExtraService;
  let workerB: ExtraService;
  const callers: ScriptedCaller[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    const redisHost = new URL(redis.url).host;
    const full = { AGENT_MAX_CALLS: String(CALLS_PER_WORKER) };
    stack = await startTestStack(full, { livekitRedis: redisHost });
    nodeB = await startLivekitNode(stack, 'livekit-b', redisHost);
    workerB = await startWorker(stack, 'agent-b', nodeB.url, full);
  });
  afterAll(async () => {
    await Promise.all(callers.map((caller) => caller.leave().catch(() => {})));
    await workerB?.stop();
    await stack?.stop({ force: true });
    await nodeB?.stop();
    await redis?.stop();
  });

  /** The sessions whose agent joined through a worker, from its log. */
  const served = async (worker: 'agent' | 'agent-b') =>
    (await readServiceLog<{ msg: string; sessionId?: string }>(stack.logDir, worker))
      .filter((line) => line.msg === 'agent joined the call')
      .map((line) => line.sessionId);

  const chat = async (caller: ScriptedCaller, message: string) => {
    const { sessionId, sessionToken } = caller.session;
    const response = await fetch(`${stack.apiUrl}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${sessionToken}` },
      body: JSON.stringify({ message, sessionId }),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as ChatResponse;
  };

  it('spreads calls over both workers and moves a dead worker’s calls to the other', async () => {
    for (let call = 0; call < 2 * CALLS_PER_WORKER; call++) {
      const caller = await ScriptedCaller.join(stack.apiUrl);
      callers.push(caller);
      await caller.waitForTurnState('idle', 0, 30_000);
      await sleep(JOIN_STAGGER_MS);
    }
    const onA = await served('agent');
    const onB = await served('agent-b');
    expect(onA).toHaveLength(CALLS_PER_WORKER);
    expect(onB).toHaveLength(CALLS_PER_WORKER);
    const ofB = callers.filter((caller) => onB.includes(caller.session.sessionId));

    stack.openai.setReply(echoUserMessages);
    const first = ofB[0] as ScriptedCaller;
    expect((await chat(first, 'My name is Ada.')).message).toBe('You told me: My name is Ada.');

    // Worker A's calls end, so it has room for B's; then B dies with its job processes.
    for (const caller of callers.filter((c) => onA.includes(c.session.sessionId))) {
      await caller.leave();
    }
    await sleep(2 * JOIN_STAGGER_MS);
    process.kill(-(workerB.process.pid as number), 'SIGKILL');

    await expect
      .poll(async () => (await served('agent')).filter((id) => onB.includes(id)).length, {
        timeout: 120_000,
        interval: 1000,
      })
      .toBe(CALLS_PER_WORKER);
    const reply = await chat(first, 'What is my name?');
    expect(reply.message).toBe('You told me: My name is Ada. / What is my name?');
  });
});
