/**
 * `GET /api/sessions/:id/transcript`: the conversation so far, a page at a time
 * (api/transcript.ts).
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import {
  TRANSCRIPT_PAGE_DEFAULT,
  transcriptQuerySchema,
  transcriptResponseSchema,
} from '../../common/protocol.js';
import type { AppDeps } from '../deps.js';
import { errorResponse, sessionTokenErrors, unknownSessionError } from '../openapi.js';
import { loadSession } from '../session-auth.js';
import { readTranscriptPage } from '../transcript.js';
import { validationHook } from '../validation.js';

const transcriptRoute = createRoute({
  method: 'get',
  path: '/api/sessions/{id}/transcript',
  summary: 'The conversation so far: every user and assistant message, spoken or typed',
  description:
    `A page of at most \`limit\` messages (${TRANSCRIPT_PAGE_DEFAULT} by default) after ` +
    '`after`. `hasMore`: more follow; the next page is at `?after=<nextAfter>`, which is also ' +
    'where messages added later appear.',
  request: {
    params: z.object({ id: z.string().min(1).max(64) }),
    query: transcriptQuerySchema,
  },
  responses: {
    200: {
      description: 'The transcript',
      content: { 'application/json': { schema: transcriptResponseSchema } },
    },
    400: errorResponse('The id is not a session id, or `after` or `limit` is not valid', [
      'invalid_request',
    ]),
    ...sessionTokenErrors,
    404: unknownSessionError,
  },
});

/** The transcript; the session token is checked for the whole `/api/sessions/:id` scope. */
export function transcriptRoutes({ store }: Pick<AppDeps, 'store'>) {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.openapi(transcriptRoute, async (c) => {
    const { after = 0, limit = TRANSCRIPT_PAGE_DEFAULT } = c.req.valid('query');
    const { sessionId } = await loadSession(store, c.req.valid('param').id);
    return c.json(await readTranscriptPage(store, sessionId, { after, limit }), 200);
  });
  return app;
}
