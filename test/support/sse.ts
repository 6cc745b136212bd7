/**
 * A test subscriber to the session feed: reads `GET /api/sessions/:id/events` over fetch, parses
 * its events with the project's SSE reader (as a browser's EventSource would), and keeps every
 * event with its arrival time.
 */
import type { SessionEvent } from '../../common/protocol.js';
import { readSse } from '../../common/sse.js';

export interface ReceivedEvent {
  event: SessionEvent;
  /** The frame's `id:` and `event:` lines, which must match the data. */
  id: string | undefined;
  name: string | undefined;
  receivedAt: number;
}

export class FeedSubscriber {
  readonly received: ReceivedEvent[] = [];
  readonly comments: string[] = [];
  /** Every `retry:` hint, in order: the one a stream starts with, and any later one. */
  readonly retryHints: number[] = [];
  #done: Promise<void>;
  #waiters = new Set<() => void>();

  private constructor(
    readonly response: Response,
    private readonly abort: AbortController,
  ) {
    this.#done = this.#read();
  }

  static async open(
    eventsUrl: string,
    sessionToken: string,
    lastEventId?: number,
  ): Promise<FeedSubscriber> {
    const headers: Record<string, string> = { authorization: `Bearer ${sessionToken}` };
    if (lastEventId !== undefined) headers['last-event-id'] = String(lastEventId);
    const abort = new AbortController();
    const response = await fetch(eventsUrl, { headers, signal: abort.signal });
    if (response.status !== 200) {
      throw new Error(`feed answered ${response.status}: ${await response.text()}`);
    }
    return new FeedSubscriber(response, abort);
  }

  get events(): SessionEvent[] {
    return this.received.map((r) => r.event);
  }

  get retryMs(): number | undefined {
    return this.retryHints.at(-1);
  }

  /** Resolves when the stream has ended, by the server's doing or by close(). */
  get ended(): Promise<void> {
    return this.#done;
  }

  get lastSeq(): number {
    return this.received.at(-1)?.event.seq ?? 0;
  }

  /** Resolves with the first event (in arrival order) that matches, waiting for it if needed. */
  async waitFor(
    predicate: (event: SessionEvent) => boolean,
    timeoutMs = 30_000,
    what = 'event',
  ): Promise<SessionEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) {
        const seen = this.events.map((e) => e.event_type).join(', ');
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received: ${seen}`);
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, 200);
        this.#waiters.add(wake);
      });
    }
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.#done;
  }

  async #read(): Promise<void> {
    const body = this.response.body;
    if (!body) return;
    try {
      const feed = readSse(body, {
        onComment: (comment) => this.comments.push(comment),
        onRetry: (ms) => this.retryHints.push(ms),
      });
      for await (const { id, event, data } of feed) {
        this.received.push({ event: JSON.parse(data), id, name: event, receivedAt: Date.now() });
        for (const wake of this.#waiters) wake();
      }
    } catch {
      // closed by us or by the server
    }
  }
}
