/**
 * `/api/chat` streaming overhead: time to the first `delta` frame at the client, minus the LLM
 * server's own time to first token, over N sequential requests through the real API process.
 * `npm run bench:chat -- --requests 20 --llm-ttft 200`
 */
import { parseArgs } from 'node:util';
import { startTestStack } from '../test/support/harness.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '20' },
    'llm-ttft': { type: 'string', default: '200' },
  },
});
const requests = Number(values.requests);
const llmTtftMs = Number(values['llm-ttft']);
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

const stack = await startTestStack();
try {
  stack.openai.setLatency({ llmFirstTokenMs: llmTtftMs, llmTokenIntervalMs: 20 });
  const overheads: number[] = [];
  for (let i = 0; i <= requests; i++) {
    const sentAt = performance.now();
    const response = await fetch(`${stack.apiUrl}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ message: `Question number ${i}?` }),
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    let firstDeltaAt: number | undefined;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
      if (firstDeltaAt === undefined && text.includes('event: delta'))
        firstDeltaAt = performance.now();
    }
    // The first request warms up the API process and its connections.
    if (i > 0 && firstDeltaAt !== undefined) overheads.push(firstDeltaAt - sentAt - llmTtftMs);
  }
  const sorted = overheads.sort((a, b) => a - b);
  console.log(
    `/api/chat first delta minus LLM time to first token (${llmTtftMs} ms), ${requests} requests`,
  );
  console.log('| figure | ms |\n|---|---|');
  for (const [name, p] of [
    ['median', 50],
    ['p95', 95],
    ['max', 100],
  ] as const) {
    console.log(`| ${name} | ${percentile(sorted, p).toFixed(1)} |`);
  }
} finally {
  await stack.stop();
}
