/**
 * `GET /api/sessions/:id/transcript`: the conversation so far, built from the event log's
 * `conversation_item` events (the log is the single source of truth for the transcript).
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { transcriptResponseSchema } from '../../common/protocol.js';
import type { AppDeps } from '../app.js';
import { errorResponse } from '../openapi.js';
import { loadSession, requireSessionToken } from '../session-auth.js';
import { validationHook } from '../validation.js';

const transcriptRoute = createRoute({
  method: 'get',
  path: '/api/sessions/{id}/transcript',
  summary: 'The conversation so far: every user and assistant message, spoken or typed',
  request: { params: z.object({ id: z.string().min(1).max(64) }) },
  responses: {
    200: {
      description: 'The transcript',
      content: { 'application/json': { schema: transcriptResponseSchema } },
    },
    401: errorResponse('No session token, or not a valid one'),
    403: errorResponse('The session token is for another session'),
    404: errorResponse('Unknown session'),
  },
});

export function transcriptRoutes({ store, sessionTokens }: AppDeps) {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.use('/api/sessions/:id/transcript', requireSessionToken(sessionTokens));
  app.openapi(transcriptRoute, async (c) => {
    const { sessionId } = await loadSession(store, c.req.valid('param').id);
    const items = (await store.readConversation(sessionId)).map((item) => ({
      item_id: item.item_id,
      role: item.role,
      text: item.text,
      source: item.source,
      timestamp: item.timestamp,
    }));
    return c.json({ sessionId, items }, 200);
  });
  return app;
}
