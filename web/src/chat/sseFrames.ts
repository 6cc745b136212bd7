/**
 * Reads Server-Sent Events from a fetch response body. EventSource cannot POST, so the streamed
 * reply of /api/chat is read by hand: frames are split on blank lines, `event:` names them and
 * `data:` lines carry the payload (comments and `id:`/`retry:` lines do not matter here).
 */
interface SseFrame {
  event: string;
  data: string;
}

function parseFrame(block: string): SseFrame | undefined {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split(/\r\n|\r|\n/)) {
    const colon = line.indexOf(':');
    if (colon === 0) continue;
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    if (field === 'data') data.push(value);
  }
  return data.length > 0 ? { event, data: data.join('\n') } : undefined;
}

export async function* readSseFrames(body: ReadableStream<BufferSource>): AsyncGenerator<SseFrame> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      const blocks = buffer.split(/\r\n\r\n|\n\n|\r\r/);
      buffer = blocks.pop() ?? '';
      for (const block of blocks) {
        const frame = parseFrame(block);
        if (frame) yield frame;
      }
    }
    const last = parseFrame(buffer);
    if (last) yield last;
  } finally {
    // Also when the reader stops early: closing the response cancels the reply on the server.
    await reader.cancel().catch(() => {});
  }
}
