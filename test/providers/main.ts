// CLI: runs the fake OpenAI and Deepgram servers for benchmarks and manual runs, and prints
// their base URLs as one JSON line: {"openai":"http://…/v1","deepgram":"ws://…"}.
// Usage: npm run build && node dist/test/providers/main.js [--openai-port N] [--deepgram-port N]
import { parseArgs } from 'node:util';
import { startDeepgramServer } from './deepgram.js';
import { startOpenAIServer } from './openai.js';

function portOption(value: string | undefined, name: string): number {
  const port = Number(value ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--${name} must be a port number (0 picks a free one), got ${value}`);
  }
  return port;
}

const { values } = parseArgs({
  options: { 'openai-port': { type: 'string' }, 'deepgram-port': { type: 'string' } },
});
const openai = await startOpenAIServer({ port: portOption(values['openai-port'], 'openai-port') });
const deepgram = await startDeepgramServer({
  port: portOption(values['deepgram-port'], 'deepgram-port'),
});
console.log(JSON.stringify({ openai: openai.url, deepgram: deepgram.url }));

async function stop(): Promise<void> {
  await Promise.all([openai.close(), deepgram.close()]);
  process.exit(0);
}
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
