/**
 * A group of scripted callers for the capacity benchmark, in a process of its own so the
 * callers' audio work does not slow the runner's clock. Each caller joins its own session and
 * speaks turns on a loop until told to stop; every turn (or failure) goes to the parent as an
 * IPC message. Started by bench/capacity.ts with `fork`; argv: apiUrl, count, profile (JSON).
 */
import { ScriptedCaller } from '../test/support/caller.js';
import { FeedSubscriber } from '../test/support/sse.js';
import { measureTurn, type ProviderProfile, QUESTIONS, type TurnSample } from './voice-turns.js';

export type CallerMessage =
  | { type: 'turn'; at: number; sample: TurnSample }
  | { type: 'error'; at: number; message: string };

const [apiUrl, count, profileJson] = process.argv.slice(2) as [string, string, string];
const profile = JSON.parse(profileJson) as ProviderProfile;
let stopping = false;
const send = (message: CallerMessage) => process.send?.(message);

async function runCaller(index: number): Promise<void> {
  // Callers of one group start a little apart, as real calls do.
  await new Promise((resolve) => setTimeout(resolve, index * 700));
  let caller: ScriptedCaller | undefined;
  let feed: FeedSubscriber | undefined;
  try {
    caller = await ScriptedCaller.join(apiUrl);
    feed = await FeedSubscriber.open(caller.session.eventsUrl, caller.session.sessionToken);
    await caller.waitForTurnState('idle', 0, 30_000);
    for (let turn = index; !stopping; turn++) {
      const question = QUESTIONS[turn % QUESTIONS.length] as string;
      const sample = await measureTurn(caller, feed, profile, question);
      send({ type: 'turn', at: Date.now(), sample });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } catch (error) {
    if (!stopping) send({ type: 'error', at: Date.now(), message: (error as Error).message });
  } finally {
    await feed?.close().catch(() => {});
    await caller?.leave().catch(() => {});
  }
}

process.on('message', (message) => {
  if (message === 'stop') stopping = true;
});
await Promise.all(Array.from({ length: Number(count) }, (_, index) => runCaller(index)));
process.exit(0);
