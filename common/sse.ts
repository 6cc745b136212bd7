/**
 * The project's one reader of Server-Sent Events, for the page's streamed chat reply, the tests
 * and the benchmarks: `eventsource-parser`, which parses as a browser's EventSource does (field
 * names, `\r\n` and `\r` line ends, multi-line data, comments, `retry:`), however the network
 * splits the bytes. An event without an `event:` field is a `message`, as in EventSource.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { EventSourceParserStream, type StreamOptions } from 'eventsource-parser/stream';

export interface SseEvent {
  event: string;
  data: string;
  id: string | undefined;
}

const named = (message: EventSourceMessage): SseEvent => ({
  event: message.event ?? 'message',
  data: message.data,
  id: message.id,
});

/**
 * The events of a streamed body as they arrive. Leaving the loop early cancels the body (for a
 * fetch response, the request on the server too).
 */
export async function* readSse(
  body: ReadableStream<Uint8Array<ArrayBuffer>>,
  options: Pick<StreamOptions, 'onComment' | 'onRetry'> = {},
): AsyncGenerator<SseEvent> {
  const reader = body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream(options))
    .getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield named(value);
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** The events of a whole SSE text (a finished response). */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  createParser({ onEvent: (message) => events.push(named(message)) }).feed(text);
  return events;
}

/** A parser fed piece by piece (raw socket reads): each event as `onEvent` sees it. */
export const sseParser = (onEvent: (event: SseEvent) => void) =>
  createParser({ onEvent: (message) => onEvent(named(message)) });
