/**
 * Voice-to-voice latency as a caller sees it: end of the caller's speech → first agent audio
 * frame above the speech threshold, over N turns through the real stack, with the provider test
 * servers answering at zero latency. Also the feed's delivery delay: event reported by the agent
 * → received by an SSE subscriber.
 * `npm run bench -- --turns 10 [--set ENDPOINTING_MAX_DELAY_MS=500]`
 */
import { parseArgs } from 'node:util';
import { ScriptedCaller } from '../test/support/caller.js';
import { startTestStack } from '../test/support/harness.js';
import { FeedSubscriber } from '../test/support/sse.js';

const { values } = parseArgs({
  options: {
    turns: { type: 'string', default: '10' },
    /** Agent settings for this run, e.g. `--set ENDPOINTING_MAX_DELAY_MS=500`. */
    set: { type: 'string', multiple: true, default: [] },
  },
});
const turns = Number(values.turns);
const settings = Object.fromEntries(values.set.map((pair) => pair.split('=', 2)));
const QUESTIONS = [
  'What is the capital of France?',
  'How tall is the Eiffel tower?',
  'What river runs through Paris?',
  'When was the Louvre opened?',
  'What is the population of Lyon?',
];

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

const stack = await startTestStack(settings);
try {
  const caller = await ScriptedCaller.join(stack.apiUrl);
  const feed = await FeedSubscriber.open(caller.session.eventsUrl, caller.session.sessionToken);
  await caller.waitForTurnState('idle', 0, 30_000);
  const latencies: number[] = [];
  for (let turn = 0; turn < turns; turn++) {
    const question = QUESTIONS[turn % QUESTIONS.length] as string;
    stack.deepgram.scriptTranscripts([question]);
    const speechEnd = await caller.say(question);
    const firstAudio = await caller.waitForAgentSpeech(speechEnd);
    latencies.push(firstAudio - speechEnd);
    await caller.waitForTurnState('idle', firstAudio, 30_000);
  }
  await caller.leave();
  await feed.close();

  const sorted = [...latencies].sort((a, b) => a - b);
  const delays = feed.received
    .map(({ event, receivedAt }) => receivedAt - Date.parse(event.timestamp))
    .sort((a, b) => a - b);
  const described = values.set.length > 0 ? values.set.join(' ') : 'framework defaults';
  console.log(`voice-to-voice over ${turns} turns, provider latencies 0 ms, ${described}`);
  console.log('| figure | ms |\n|---|---|');
  for (const [name, value] of [
    ['median', percentile(sorted, 50)],
    ['p95', percentile(sorted, 95)],
    ['min', sorted[0]],
    ['max', sorted.at(-1)],
  ] as const) {
    console.log(`| ${name} | ${Math.round(value ?? Number.NaN)} |`);
  }
  console.log(`turns: ${latencies.map(Math.round).join(', ')}`);
  console.log(
    `feed delivery (agent event → SSE subscriber) over ${delays.length} events: ` +
      `median ${percentile(delays, 50)} ms, p99 ${percentile(delays, 99)} ms, max ${delays.at(-1)} ms`,
  );
} finally {
  await stack.stop();
}
