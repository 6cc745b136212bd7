/**
 * `GET /api/voice/:id`: the spoken reply to a voice message, until it expires. The unguessable id
 * is the only credential, so an <audio> element can play it straight from the `audioUrl` of the
 * chat answer. Byte ranges are served because Safari's player asks for them and seeking needs them.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import parseRange from 'range-parser';
import type { AppDeps } from '../deps.js';
import { apiError, respondWithError } from '../errors.js';
import { errorResponse } from '../openapi.js';
import { validationHook } from '../validation.js';

const audioResponse = (description: string) => ({
  description,
  content: { 'audio/*': { schema: z.string().openapi({ format: 'binary' }) } },
});

const voiceRoute = createRoute({
  method: 'get',
  path: '/api/voice/{id}',
  summary:
    'The spoken reply to a voice message (the `audioUrl` of a chat answer), until it expires',
  // Any string (an empty one is another path): a malformed id gets the same 404 as an unknown one.
  request: {
    params: z.object({ id: z.string().min(1) }),
    headers: z.object({
      range: z.string().optional().openapi({ description: 'One byte range, e.g. `bytes=0-1023`' }),
    }),
  },
  responses: {
    200: audioResponse('The reply audio; its content type says the format (wav, mp3)'),
    206: audioResponse('The requested byte range of the reply audio'),
    404: errorResponse('Unknown or expired reply', ['voice_not_found']),
    416: errorResponse('The requested byte range is outside the reply', ['range_not_satisfiable']),
  },
});

export function voiceRoutes({ voiceReplies }: Pick<AppDeps, 'voiceReplies'>) {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.openapi(voiceRoute, async (c) => {
    const reply = await voiceReplies.open(c.req.valid('param').id);
    if (!reply) throw apiError(404, 'voice_not_found', 'No such voice reply; it may have expired.');
    const { bytes, size } = reply;
    const maxAgeS = Math.max(0, Math.floor((reply.expiresAt - Date.now()) / 1000));
    const headers = {
      'content-type': reply.mimeType,
      'cache-control': `private, max-age=${maxAgeS}`,
      'accept-ranges': 'bytes',
      'x-content-type-options': 'nosniff',
    };
    const rangeHeader = c.req.header('range');
    const ranges = rangeHeader === undefined ? undefined : parseRange(size, rangeHeader);
    if (ranges === -1) {
      const message = `The reply has ${size} bytes.`;
      return respondWithError(c, 416, 'range_not_satisfiable', message, {
        'content-range': `bytes */${size}`,
      });
    }
    // A malformed header or several ranges get the whole reply, as HTTP allows.
    const range =
      Array.isArray(ranges) && ranges.type === 'bytes' && ranges.length === 1
        ? ranges[0]
        : undefined;
    if (range) {
      return c.body(bytes.subarray(range.start, range.end + 1), 206, {
        ...headers,
        'content-length': String(range.end - range.start + 1),
        'content-range': `bytes ${range.start}-${range.end}/${size}`,
      });
    }
    return c.body(bytes, 200, { ...headers, 'content-length': String(size) });
  });
  return app;
}
