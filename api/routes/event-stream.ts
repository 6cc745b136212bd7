/**
 * One SSE subscriber of a session: the log replayed from a seq, then live events, as a byte
 * stream the client pulls. Nothing is written ahead of the client's reads: replay pages are read
 * from the store when the client wants more, and live events wait in a bounded queue. A client
 * that lets more than `maxQueuedEvents` live events pile up is dropped (its stream ends; an
 * EventSource reconnects with Last-Event-ID and catches up from the log at its own pace).
 * Publishing only appends to that queue, so a slow client never delays the others.
 */
import type { SessionEvent } from '../../common/protocol.js';
import type { SessionStore } from '../store/types.js';

export interface FollowSessionOptions {
  store: SessionStore;
  sessionId: string;
  /** Replay the events after this seq (0: the whole log). */
  afterSeq: number;
  /** The session had ended when the client connected: close once the log is sent. */
  endsWithLog: boolean;
  retryMs: number;
  /**
   * Aborted when the server shuts down: the stream sends the live events it holds, then a retry
   * hint (spread over a few seconds, so a crowd of clients does not come back at the same
   * instant), and ends. Each client reconnects with Last-Event-ID, to this server's successor or
   * another replica, and loses nothing.
   */
  closing?: AbortSignal;
  heartbeatMs: number;
  maxQueuedEvents: number;
  onDrop: () => void;
  onError: (error: unknown) => void;
  /** Called once, when the subscription ends (the client left, the log ended, or a drop). */
  onClose: () => void;
}

const REPLAY_PAGE_SIZE = 500;
const HEARTBEAT = ': ping\n\n';
/** The retry hint when the server shuts down: between these, at random. */
const SHUTDOWN_RETRY_MS = { min: 500, max: 3000 };
const encoder = new TextEncoder();

const retryFrame = (ms: number) => encoder.encode(`retry: ${Math.round(ms)}\n\n`);

/**
 * Encoded frames by event. The store hands every subscriber of a session the same event objects,
 * so a live event is serialized and encoded once however many subscribers it goes to.
 */
const encodedFrames = new WeakMap<SessionEvent, Uint8Array>();

function sseFrame(event: SessionEvent): Uint8Array {
  let frame = encodedFrames.get(event);
  if (!frame) {
    frame = encoder.encode(
      `id: ${event.seq}\nevent: ${event.event_type}\ndata: ${JSON.stringify(event)}\n\n`,
    );
    encodedFrames.set(event, frame);
  }
  return frame;
}

export function followSession(options: FollowSessionOptions): ReadableStream<Uint8Array> {
  const { store, sessionId, maxQueuedEvents } = options;
  let lastSentSeq = options.afterSeq;
  /** False while the log may hold events not yet sent that the live feed will not bring. */
  let caughtUp = false;
  /** Live events not yet sent; during replay they may repeat events the log pages bring. */
  let queued: SessionEvent[] = [];
  let heartbeatDue = false;
  let closing = options.closing?.aborted ?? false;
  let finished = false;
  let wakePull: (() => void) | undefined;
  let stream!: ReadableStreamDefaultController<Uint8Array>;

  const wake = () => {
    wakePull?.();
    wakePull = undefined;
  };
  // Subscribe before the first log read: an event appended in between is then in both (the copy
  // is skipped by seq) instead of in neither.
  const unsubscribe = store.subscribe(sessionId, (events) => {
    if (finished) return;
    if (queued.length + events.length > maxQueuedEvents) {
      finish();
      options.onDrop();
      return;
    }
    queued.push(...events);
    wake();
  });
  const heartbeat = setInterval(() => {
    heartbeatDue = true;
    wake();
  }, options.heartbeatMs);
  const onClosing = () => {
    closing = true;
    wake();
  };
  options.closing?.addEventListener('abort', onClosing);

  /** Ends the subscription and frees the queue; false when it had already ended. */
  function stop() {
    if (finished) return false;
    finished = true;
    unsubscribe();
    clearInterval(heartbeat);
    options.closing?.removeEventListener('abort', onClosing);
    queued = [];
    wake();
    options.onClose();
    return true;
  }

  /** Stops and ends the stream; the client still reads what was enqueued before. */
  function finish() {
    if (stop()) stream.close();
  }

  /** Enqueues events that follow the last one sent, up to a session_ended, which ends the stream. */
  function send(events: SessionEvent[]) {
    const end = events.findIndex((event) => event.event_type === 'session_ended');
    const frames = end === -1 ? events : events.slice(0, end + 1);
    const last = frames.at(-1);
    if (last) {
      stream.enqueue(frames.length === 1 ? sseFrame(last) : Buffer.concat(frames.map(sseFrame)));
      lastSentSeq = last.seq;
    }
    if (end !== -1 || (caughtUp && options.endsWithLog)) finish();
    return last !== undefined;
  }

  /** Sends one page of the log; the log is caught up with once a page comes back short. */
  async function replayPage() {
    const page = await store.readEvents(sessionId, lastSentSeq, REPLAY_PAGE_SIZE);
    if (finished) return false;
    caughtUp = page.length < REPLAY_PAGE_SIZE;
    const sent = send(page);
    // Live events that arrived during the replay and that this page already brought.
    queued = queued.filter((event) => event.seq > lastSentSeq);
    return sent;
  }

  /**
   * The queued live events that continue the log, or undefined when they leave a hole (a store
   * that delivers late or loses a message): the feed must continue the log seq by seq.
   */
  function takeLive() {
    const live = queued.filter((event) => event.seq > lastSentSeq);
    queued = [];
    return live.some((event, index) => event.seq !== lastSentSeq + 1 + index) ? undefined : live;
  }

  /** On shutdown: sends the live events already here, then the retry hint, and ends the stream. */
  function endForShutdown() {
    const live = caughtUp ? takeLive() : undefined;
    if (live) send(live);
    if (finished) return;
    const { min, max } = SHUTDOWN_RETRY_MS;
    stream.enqueue(retryFrame(min + Math.random() * (max - min)));
    finish();
  }

  /** Sends what is waiting, or waits for something to send: one chunk per client read. */
  async function sendNext() {
    while (!finished) {
      if (closing) return endForShutdown();
      if (!caughtUp) {
        if (await replayPage()) return;
        continue;
      }
      const live = takeLive();
      // A hole is filled from the log, which has every published event: stores publish after they
      // commit.
      if (!live) {
        caughtUp = false;
        continue;
      }
      if (send(live)) return;
      if (heartbeatDue) {
        heartbeatDue = false;
        stream.enqueue(encoder.encode(HEARTBEAT));
        return;
      }
      await new Promise<void>((resolve) => {
        wakePull = resolve;
      });
    }
  }

  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        stream = controller;
        controller.enqueue(retryFrame(options.retryMs));
      },
      async pull() {
        try {
          await sendNext();
        } catch (error) {
          options.onError(error);
          finish();
        }
      },
      cancel() {
        stop();
      },
    },
    // Nothing is produced until the client asks: a client that stops reading stops the writer.
    { highWaterMark: 0 },
  );
}
