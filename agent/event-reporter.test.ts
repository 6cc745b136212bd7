import { describe, expect, it } from 'vitest';
import type { TimedEventBody } from '../common/protocol.js';
import { EventReporter } from './event-reporter.js';

type Answer = number | 'network-error';

/** A fetch that answers from a script (default 200) and records every batch it was sent. */
function scriptedFetch(answers: Answer[] = []) {
  const batches: TimedEventBody[][] = [];
  const urls: string[] = [];
  const fetchFn = (async (url: string, init: RequestInit) => {
    urls.push(url);
    batches.push((JSON.parse(init.body as string) as { events: TimedEventBody[] }).events);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const answer = answers.shift() ?? 200;
    if (answer === 'network-error') throw new TypeError('fetch failed');
    return new Response(answer === 200 ? '{}' : 'nope', { status: answer });
  }) as typeof fetch;
  return { fetchFn, batches, urls };
}

const silentLog = { warn: () => {}, error: () => {} };
const speak = (n: number) =>
  ({ event_type: 'agent_speaking', text: `t${n}`, delta: `t${n}`, turn_id: 'x' }) as const;

const transcription = (text: string, isFinal: boolean) =>
  ({ event_type: 'transcription', text, is_final: isFinal, is_interruption: false }) as const;

function reporter(fetchFn: typeof fetch) {
  return new EventReporter({
    apiUrl: 'http://api.test/',
    sessionId: 's/1',
    ingestToken: 'tok',
    log: silentLog,
    fetch: fetchFn,
    retryBaseMs: 1,
  });
}

describe('EventReporter', () => {
  it('delivers in order, batching what queues up while a request is in flight', async () => {
    const { fetchFn, batches, urls } = scriptedFetch();
    const events = reporter(fetchFn);
    for (let n = 0; n < 5; n++) events.report(speak(n));
    await events.close(1000);
    expect(urls[0]).toBe('http://api.test/internal/sessions/s%2F1/events');
    expect(batches.map((batch) => batch.length)).toEqual([1, 4]);
    expect(batches.flat().map((e) => (e as { text: string }).text)).toEqual([
      't0',
      't1',
      't2',
      't3',
      't4',
    ]);
    expect(batches[0]?.[0]?.timestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('retries network errors, 429 and 5xx until delivered, without reordering', async () => {
    const { fetchFn, batches } = scriptedFetch(['network-error', 429, 503]);
    const events = reporter(fetchFn);
    events.report(speak(1));
    events.report(speak(2));
    await events.close(1000);
    expect(batches).toHaveLength(4);
    expect(batches.at(-1)?.map((e) => (e as { text: string }).text)).toEqual(['t1', 't2']);
  });

  it('drops a batch the API refuses for good, and goes on with the next', async () => {
    const { fetchFn, batches } = scriptedFetch([400]);
    const events = reporter(fetchFn);
    events.report(speak(1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    events.report(speak(2));
    await events.close(1000);
    expect(batches.map((batch) => batch.map((e) => (e as { text: string }).text))).toEqual([
      ['t1'],
      ['t2'],
    ]);
  });

  it('sends a batch refused as too large or invalid again in halves, dropping only the bad event', async () => {
    const texts = (batch: TimedEventBody[]) => batch.map((e) => (e as { text: string }).text);
    const batches: string[][] = [];
    const fetchFn = (async (_url: string, init: RequestInit) => {
      const batch = (JSON.parse(init.body as string) as { events: TimedEventBody[] }).events;
      batches.push(texts(batch));
      // The API takes at most two events at a time, and never t3.
      const status = batch.length > 2 ? 413 : texts(batch).includes('t3') ? 400 : 200;
      return new Response('{}', { status });
    }) as typeof fetch;
    const events = reporter(fetchFn);
    events.report(speak(0));
    for (let n = 1; n <= 5; n++) events.report(speak(n));
    await events.close(1000);

    const delivered = batches.filter((batch) => batch.length <= 2 && !batch.includes('t3'));
    expect(delivered.flat()).toEqual(['t0', 't1', 't2', 't4', 't5']);
    expect(batches.slice(1, 4)).toEqual([
      ['t1', 't2', 't3', 't4', 't5'],
      ['t1', 't2', 't3'],
      ['t1', 't2'],
    ]);
  });

  it('bounds the queue while the API is down: drops the oldest interim events, keeps the conversation, then says how many', async () => {
    const { fetchFn, batches } = scriptedFetch(Array(30).fill('network-error'));
    const warnings: string[] = [];
    const events = new EventReporter({
      apiUrl: 'http://api.test',
      sessionId: 's',
      ingestToken: 'tok',
      log: { warn: (_obj, msg) => warnings.push(msg), error: () => {} },
      fetch: fetchFn,
      retryBaseMs: 1,
      retryMaxMs: 2,
      maxQueued: 30,
    });
    const item = (n: number) =>
      ({
        event_type: 'conversation_item',
        role: 'user',
        text: `i${n}`,
        source: 'voice',
        item_id: `i${n}`,
      }) as const;
    for (let n = 0; n < 10; n++) {
      events.report(transcription(`p${n}`, false));
      events.report(speak(n));
      events.report(transcription(`f${n}`, true));
      events.report(item(n));
    }
    await events.close(5000);

    // The first 30 requests failed; the ones after them delivered.
    const delivered = batches.slice(30).flat();
    const texts = delivered.map((e) => ('text' in e ? e.text : e.event_type));
    // p0 was in flight when the API went away: it stays. Then every final and item, in order,
    // and the newest interim events that fit.
    expect(texts.filter((t) => /^[fi]\d/.test(t))).toEqual(
      Array.from({ length: 10 }, (_, n) => [`f${n}`, `i${n}`]).flat(),
    );
    expect(texts[0]).toBe('p0');
    const interims = Array.from({ length: 10 }, (_, n) => [`p${n}`, `t${n}`]).flat();
    const keptInterims = texts.filter((t) => /^[pt]\d/.test(t)).slice(1);
    expect(keptInterims.length).toBeGreaterThan(0);
    expect(keptInterims).toEqual(interims.slice(-keptInterims.length));
    const dropped = 40 - (delivered.length - 1);
    expect(dropped).toBeGreaterThan(0);
    expect(delivered.at(-1)).toMatchObject({
      event_type: 'error',
      error_code: 'events_dropped',
      recoverable: true,
      error_message: expect.stringMatching(new RegExp(`^${dropped} interim events`)),
    });
    expect(warnings.filter((w) => w.includes('dropping'))).toHaveLength(1);
  });

  it('keeps every conversation event even past the bound', async () => {
    const { fetchFn, batches } = scriptedFetch(Array(5).fill('network-error'));
    const events = new EventReporter({
      apiUrl: 'http://api.test',
      sessionId: 's',
      ingestToken: 'tok',
      log: silentLog,
      fetch: fetchFn,
      retryBaseMs: 1,
      maxQueued: 3,
    });
    for (let n = 0; n < 8; n++) {
      events.report(transcription(`f${n}`, true));
    }
    await events.close(5000);
    expect(batches.at(-1)?.map((e) => ('text' in e ? e.text : ''))).toEqual(
      Array.from({ length: 8 }, (_, n) => `f${n}`),
    );
  });
});
