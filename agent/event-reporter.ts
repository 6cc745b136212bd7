/**
 * Delivers the call's events to the API's ingest, in order. Events are stamped when they happen
 * and queued; one request is in flight at a time, carrying everything queued meanwhile, so a burst
 * costs one round trip and order is kept. Retryable failures (network, 408, 429, 5xx) are retried
 * with backoff and nothing is dropped. A batch the API refuses as too large or invalid is sent
 * again in halves, so one bad event cannot take others with it; only an event refused on its own
 * (or any batch refused for another 4xx, such as a revoked token) is dropped, loudly.
 *
 * While the API is unreachable the queue is bounded (`maxQueued`): past it, the oldest interim
 * events (`user_speaking`, interim transcriptions, `agent_speaking`, `metrics`) are dropped, never
 * a conversation item, a final transcription, a state change or an error. One warning says so
 * when dropping starts; once delivery works again, an `error` event `events_dropped`
 * (recoverable) tells the feed how many were lost, and the API counts it in its metrics.
 */
import type { SessionEventBody, TimedEventBody } from '../common/protocol.js';

export interface EventReporterOptions {
  apiUrl: string;
  sessionId: string;
  ingestToken: string;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  fetch?: typeof fetch;
  /** Backoff between retries: first delay, doubled up to the maximum. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Events kept while the API cannot be reached before interim ones are dropped (5000). */
  maxQueued?: number;
}

const MAX_BATCH = 200;
const REQUEST_TIMEOUT_MS = 5000;

const DEFAULT_MAX_QUEUED = 5000;

/** What can go without losing the conversation: each is superseded by a later event. */
const isInterim = (event: SessionEventBody): boolean =>
  event.event_type === 'user_speaking' ||
  event.event_type === 'agent_speaking' ||
  event.event_type === 'metrics' ||
  (event.event_type === 'transcription' && !event.is_final);

const isRetryable = (status: number) => status === 408 || status === 429 || status >= 500;
/** Refusals of what a batch holds (its size, an event in it), not of the reporter. */
const refusesContent = (status: number) => status === 400 || status === 413 || status === 422;

export class EventReporter {
  #queue: TimedEventBody[] = [];
  #flushing: Promise<void> | null = null;
  #closed = false;
  /** How many events at the queue's head are in the request in flight (never dropped). */
  #inFlight = 0;
  /** Interim events dropped since delivery last worked. */
  #dropped = 0;
  readonly #maxQueued: number;
  readonly #url: string;
  readonly #fetch: typeof fetch;

  constructor(private readonly options: EventReporterOptions) {
    this.#url = `${options.apiUrl.replace(/\/+$/, '')}/internal/sessions/${encodeURIComponent(options.sessionId)}/events`;
    this.#fetch = options.fetch ?? fetch;
    this.#maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
  }

  report(event: SessionEventBody): void {
    this.#queue.push({ ...event, timestamp: new Date().toISOString() });
    if (this.#queue.length > this.#maxQueued) this.#dropInterim();
    this.#flushing ??= this.#flush().finally(() => {
      this.#flushing = null;
    });
  }

  /** Waits until everything reported so far is delivered, or `timeoutMs` passes. */
  async close(timeoutMs: number): Promise<void> {
    const drained = this.#flushing ?? Promise.resolve();
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
    this.#closed = true;
    if (this.#queue.length > 0) {
      this.options.log.error({ undelivered: this.#queue.length }, 'session events not delivered');
    }
  }

  /**
   * Drops the oldest interim events not in flight until the queue is a tenth under its bound, so
   * the pass (linear in the queue) runs once per many reports, not on each.
   */
  #dropInterim(): void {
    let excess = this.#queue.length - Math.floor(this.#maxQueued * 0.9);
    const kept = this.#queue.slice(0, this.#inFlight);
    for (const event of this.#queue.slice(this.#inFlight)) {
      if (excess > 0 && isInterim(event)) excess--;
      else kept.push(event);
    }
    const dropped = this.#queue.length - kept.length;
    if (dropped === 0) return;
    if (this.#dropped === 0) {
      this.options.log.warn(
        { queued: this.#queue.length, maxQueued: this.#maxQueued },
        'event ingest unreachable and the queue is full: dropping the oldest interim events',
      );
    }
    this.#dropped += dropped;
    this.#queue = kept;
  }

  /** After drops, once events flow again: one `error` event with the count, then reset. */
  #reportDrops(): void {
    if (this.#dropped === 0) return;
    const dropped = this.#dropped;
    this.#dropped = 0;
    this.options.log.warn({ dropped }, 'event ingest works again; interim events were dropped');
    this.#queue.push({
      event_type: 'error',
      error_code: 'events_dropped',
      error_message: `${dropped} interim events (partial transcripts, speech progress, metrics) were dropped while the API could not be reached.`,
      recoverable: true,
      timestamp: new Date().toISOString(),
    });
  }

  async #flush(): Promise<void> {
    let delay = this.options.retryBaseMs ?? 100;
    let batchSize = MAX_BATCH;
    while (this.#queue.length > 0 && !this.#closed) {
      const batch = this.#queue.slice(0, batchSize);
      this.#inFlight = batch.length;
      const outcome = await this.#send(batch);
      this.#inFlight = 0;
      if (outcome === 'retry') {
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, this.options.retryMaxMs ?? 5000);
        continue;
      }
      if (outcome === 'split') {
        batchSize = Math.ceil(batch.length / 2);
        continue;
      }
      this.#queue.splice(0, batch.length);
      this.#reportDrops();
      delay = this.options.retryBaseMs ?? 100;
      batchSize = MAX_BATCH;
    }
  }

  async #send(events: TimedEventBody[]): Promise<'done' | 'retry' | 'split'> {
    try {
      const response = await this.#fetch(this.#url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${this.options.ingestToken}`,
        },
        body: JSON.stringify({ events }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (response.ok) return 'done';
      if (isRetryable(response.status)) {
        this.options.log.warn({ status: response.status }, 'event ingest failed, retrying');
        return 'retry';
      }
      if (refusesContent(response.status) && events.length > 1) {
        this.options.log.warn(
          { status: response.status, events: events.length },
          'event ingest refused a batch; sending it in halves',
        );
        return 'split';
      }
      this.options.log.error(
        { status: response.status, dropped: events.length, body: await response.text() },
        'event ingest refused the events',
      );
      return 'done';
    } catch (error) {
      this.options.log.warn({ error: String(error) }, 'event ingest unreachable, retrying');
      return 'retry';
    }
  }
}
