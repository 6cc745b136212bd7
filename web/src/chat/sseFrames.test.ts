/** SSE frames read from a streamed body, however the network splits it. */
import { describe, expect, it } from 'vitest';
import { readSseFrames } from './sseFrames';

const bodyOf = (...chunks: string[]) => {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array<ArrayBuffer>>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
};

const readAll = async (body: ReadableStream<Uint8Array<ArrayBuffer>>) => {
  const frames = [];
  for await (const frame of readSseFrames(body)) frames.push(frame);
  return frames;
};

describe('readSseFrames', () => {
  it('yields named frames split anywhere, skipping comments and frames without data', async () => {
    const frames = await readAll(
      bodyOf(
        ': ping\n\nretry: 3000\n\nevent: delta\nda',
        'ta: {"text":"Hel"}\n\nevent: delta\r\ndata: {"text":"lo"}\r\n\r\n',
        'event: done\ndata: {"message":"Hello"}',
      ),
    );
    expect(frames).toEqual([
      { event: 'delta', data: '{"text":"Hel"}' },
      { event: 'delta', data: '{"text":"lo"}' },
      { event: 'done', data: '{"message":"Hello"}' },
    ]);
  });

  it('joins multi-line data and names unnamed frames "message"', async () => {
    expect(await readAll(bodyOf('data: a\ndata:b\n\n'))).toEqual([
      { event: 'message', data: 'a\nb' },
    ]);
  });
});
