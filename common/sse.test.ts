/** SSE events read from a streamed body, however the network splits it. */
import { describe, expect, it } from 'vitest';
import { parseSse, readSse } from './sse.js';

const bodyOf = (...chunks: string[]) => {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array<ArrayBuffer>>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
};

const readAll = async (body: ReadableStream<Uint8Array<ArrayBuffer>>, comments: string[] = []) => {
  const events = [];
  for await (const event of readSse(body, { onComment: (c) => comments.push(c) })) {
    events.push(event);
  }
  return events;
};

describe('readSse', () => {
  it('yields named events (each with its own id, if any) split anywhere, skipping comments and events without data', async () => {
    const comments: string[] = [];
    const events = await readAll(
      bodyOf(
        ': ping\n\nretry: 3000\n\nid: 7\nevent: delta\nda',
        'ta: {"text":"Hel"}\n\nevent: delta\r\ndata: {"text":"lo"}\r\n\r\n',
        'event: done\ndata: {"message":"Hello"}\n\n',
      ),
      comments,
    );
    expect(events).toEqual([
      { event: 'delta', data: '{"text":"Hel"}', id: '7' },
      { event: 'delta', data: '{"text":"lo"}', id: undefined },
      { event: 'done', data: '{"message":"Hello"}', id: undefined },
    ]);
    expect(comments).toEqual(['ping']);
  });

  it('joins multi-line data and names unnamed events "message"', async () => {
    expect(await readAll(bodyOf('data: a\ndata:b\n\n'))).toEqual([
      { event: 'message', data: 'a\nb', id: undefined },
    ]);
  });

  it('cancels the body when the reader stops early', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array<ArrayBuffer>>({
      pull(controller) {
        controller.enqueue(new TextEncoder().encode('data: x\n\n'));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const _ of readSse(body)) break;
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(cancelled).toBe(true);
  });
});

describe('parseSse', () => {
  it('parses a whole text, leaving out an unfinished last event as EventSource does', () => {
    expect(parseSse('event: a\ndata: 1\n\ndata: 2\n\ndata: 3')).toEqual([
      { event: 'a', data: '1', id: undefined },
      { event: 'message', data: '2', id: undefined },
    ]);
  });
});
