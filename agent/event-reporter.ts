/**
 * Delivers the call's events to the API's ingest, in order. Events are stamped when they happen
 * and queued; one request is in flight at a time, carrying everything queued meanwhile, so a burst
 * costs one round trip and order is kept. Retryable failures (network, 408, 429, 5xx) are retried
 * with backoff and nothing is dropped. A batch the API refuses as too large or invalid is sent
 * again in halves, so one bad event cannot take others with it; only an event refused on its own
 * (or any batch refused for another 4xx, such as a revoked token) is dropped, loudly.
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
}

const MAX_BATCH = 200;
const REQUEST_TIMEOUT_MS = 5000;

const isRetryable = (status: number) => status === 408 || status === 429 || status >= 500;
/** Refusals of what a batch holds (its size, an event in it), not of the reporter. */
const refusesContent = (status: number) => status === 400 || status === 413 || status === 422;

export class EventReporter {
  #queue: TimedEventBody[] = [];
  #flushing: Promise<void> | null = null;
  #closed = false;
  readonly #url: string;
  readonly #fetch: typeof fetch;

  constructor(private readonly options: EventReporterOptions) {
    this.#url = `${options.apiUrl.replace(/\/+$/, '')}/internal/sessions/${encodeURIComponent(options.sessionId)}/events`;
    this.#fetch = options.fetch ?? fetch;
  }

  report(event: SessionEventBody): void {
    this.#queue.push({ ...event, timestamp: new Date().toISOString() });
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

  async #flush(): Promise<void> {
    let delay = this.options.retryBaseMs ?? 100;
    let batchSize = MAX_BATCH;
    while (this.#queue.length > 0 && !this.#closed) {
      const batch = this.#queue.slice(0, batchSize);
      const outcome = await this.#send(batch);
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
