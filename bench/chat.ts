/**
 * `/api/chat` streaming overhead: the time to the first `delta` frame at the client, less the
 * time to the first token of the same request sent straight to the LLM server (the test server,
 * answering after a set delay), both measured by the same client code in the same run. At 1 and at
 * 20 concurrent clients, each client either continuing one conversation (a session reused turn
 * after turn) or opening a new session with every message.
 */
import { pathToFileURL } from 'node:url';
import type { CreateSessionResponse } from '../common/protocol.js';
import { readSse, type SseEvent } from '../common/sse.js';
import { startTestStack, type TestStack } from '../test/support/harness.js';
import {
  type BenchOptions,
  type BenchRow,
  type BenchSection,
  ms1,
  renderSection,
  type Summary,
  summarize,
} from './report.js';

const LLM_FIRST_TOKEN_MS = 50;
const LLM_TOKEN_INTERVAL_MS = 5;
/** Requests of every case sent before any is measured, so the API's hot code is compiled. */
const WARMUP_REQUESTS = 20;
const TARGET_P50_MS = 5;

/** Sends one request and resolves with the ms until the first SSE event that `isFirst` is read. */
async function timeToFirst(
  url: string,
  init: RequestInit,
  isFirst: (event: SseEvent) => boolean,
): Promise<number> {
  const sentAt = performance.now();
  const response = await fetch(url, init);
  if (!response.ok || !response.body) throw new Error(`${url} answered ${response.status}`);
  let firstAt: number | undefined;
  for await (const event of readSse(response.body)) {
    if (firstAt === undefined && isFirst(event)) firstAt = performance.now();
  }
  if (firstAt === undefined) throw new Error(`${url} never sent the event awaited`);
  return firstAt - sentAt;
}

/** `requests` requests over `clients` concurrent clients, each sending its next as the last ends. */
async function measure(
  clients: number,
  requests: number,
  request: (client: number, index: number) => Promise<number>,
): Promise<number[]> {
  const times: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (next < requests) times.push(await request(client, next++));
    }),
  );
  return times;
}

const json = { 'content-type': 'application/json' };

async function openTextSession(stack: TestStack): Promise<CreateSessionResponse> {
  const response = await fetch(`${stack.apiUrl}/api/sessions`, {
    method: 'POST',
    headers: json,
    body: '{"voice":false}',
  });
  if (response.status !== 201) throw new Error(`POST /api/sessions answered ${response.status}`);
  return (await response.json()) as CreateSessionResponse;
}

interface Case {
  clients: number;
  conversation: 'reused session' | 'new session per message';
  llmFirstToken: Summary;
  firstDelta: Summary;
  /** First delta less the median direct time to first token, per request. */
  overhead: Summary;
}

async function runCase(
  stack: TestStack,
  clients: number,
  requests: number,
  reuse: boolean,
): Promise<Case> {
  const llm = (_client: number, index: number) =>
    timeToFirst(
      `${stack.openai.url}/chat/completions`,
      {
        method: 'POST',
        headers: { ...json, authorization: 'Bearer test-openai-key' },
        body: JSON.stringify({
          model: 'test-llm',
          stream: true,
          messages: [{ role: 'user', content: `Question number ${index}?` }],
        }),
      },
      (event) => event.data.includes('"content":"'),
    );
  const sessions = reuse
    ? await Promise.all(Array.from({ length: clients }, () => openTextSession(stack)))
    : [];
  const chat = (client: number, index: number) => {
    const session = sessions[client];
    return timeToFirst(
      `${stack.apiUrl}/api/chat`,
      {
        method: 'POST',
        headers: {
          ...json,
          accept: 'text/event-stream',
          ...(session && { authorization: `Bearer ${session.sessionToken}` }),
        },
        body: JSON.stringify({
          message: `Question number ${index}?`,
          ...(session && { sessionId: session.sessionId }),
        }),
      },
      (event) => event.event === 'delta',
    );
  };
  await measure(clients, clients, llm);
  await measure(clients, clients, chat);
  const llmTimes = await measure(clients, requests, llm);
  const chatTimes = await measure(clients, requests, chat);
  const llmFirstToken = summarize(llmTimes);
  return {
    clients,
    conversation: reuse ? 'reused session' : 'new session per message',
    llmFirstToken,
    firstDelta: summarize(chatTimes),
    overhead: summarize(chatTimes.map((time) => time - llmFirstToken.p50)),
  };
}

export async function runChatBench({ quick }: BenchOptions): Promise<BenchSection> {
  const requests = quick ? 20 : 100;
  const stack = await startTestStack({
    LOG_LEVEL: 'info',
    // One address sends every message here, far past the per-client and per-session limits.
    RATE_LIMIT_SESSIONS: '0',
    RATE_LIMIT_CHAT: '0',
    RATE_LIMIT_CHAT_PER_SESSION: '0',
    MAX_OPEN_SESSIONS_PER_CLIENT: '0',
  });
  try {
    stack.openai.setLatency({
      llmFirstTokenMs: LLM_FIRST_TOKEN_MS,
      llmTokenIntervalMs: LLM_TOKEN_INTERVAL_MS,
    });
    const plan = [1, 20].flatMap((clients) => [true, false].map((reuse) => ({ clients, reuse })));
    for (const { clients, reuse } of plan) {
      await runCase(stack, clients, Math.max(WARMUP_REQUESTS, 2 * clients), reuse);
    }
    const cases: Case[] = [];
    for (const { clients, reuse } of plan) {
      cases.push(await runCase(stack, clients, requests, reuse));
    }
    const rows = cases.map((run): BenchRow => {
      const target = run.conversation === 'reused session';
      return {
        figure: `first delta overhead, ${run.clients} client${run.clients === 1 ? '' : 's'}, ${run.conversation}`,
        value: `p50 ${ms1(run.overhead.p50)}, p95 ${ms1(run.overhead.p95)} (first delta p50 ${ms1(run.firstDelta.p50)})`,
        baseline: `LLM server first token p50 ${ms1(run.llmFirstToken.p50)}, p95 ${ms1(run.llmFirstToken.p95)}`,
        ...(target && {
          target: `p50 ≤ ${TARGET_P50_MS} ms`,
          met: run.overhead.p50 <= TARGET_P50_MS,
        }),
      };
    });
    return {
      key: 'chat',
      title: '/api/chat streaming overhead',
      rows,
      notes: [
        `Overhead: POST /api/chat (stream) sent → first \`delta\` frame read, less the median time from a streaming chat completion sent straight to the LLM test server → its first token, measured by the same client code over the same number of requests at the same concurrency; ${requests} requests per case, after an unmeasured pass of every case (${WARMUP_REQUESTS} requests, or two per client) to warm up.`,
        `The LLM test server answers its first token after ${LLM_FIRST_TOKEN_MS} ms, then a word every ${LLM_TOKEN_INTERVAL_MS} ms.`,
        'Reused session: each client continues one text session (no call), so its history grows turn by turn, as in a conversation; new session: each message opens one (store insert + token signing). The target is held to the conversation.',
      ],
      data: { requests, llmFirstTokenMs: LLM_FIRST_TOKEN_MS, cases },
    };
  } finally {
    await stack.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(renderSection(await runChatBench({ quick: process.argv.includes('--quick') })));
}
