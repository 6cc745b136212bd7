/**
 * The agent job's side of the API, authenticated with the ingest token the API put in the job's
 * dispatch metadata (a token for one session cannot touch another):
 * `POST /internal/sessions/:id/events` appends what happened in the call to the session's log;
 * `GET /internal/sessions/:id/history` is the conversation so far, which a new call starts from.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { historyResponseSchema, ingestRequestSchema } from '../../common/protocol.js';
import type { AppDeps } from '../deps.js';
import { apiError } from '../errors.js';
import { errorResponse, invalidIdError, unknownSessionError } from '../openapi.js';
import { bearerToken, loadSession } from '../session-auth.js';
import { validationHook } from '../validation.js';

const noIngestToken = errorResponse('No valid ingest token', ['invalid_ingest_token']);

const historyRoute = createRoute({
  method: 'get',
  path: '/internal/sessions/{id}/history',
  summary: 'The conversation so far, for a new call of the session (agent workers only)',
  request: { params: z.object({ id: z.string().min(1).max(64) }) },
  responses: {
    200: {
      description: 'History',
      content: { 'application/json': { schema: historyResponseSchema } },
    },
    400: invalidIdError,
    401: noIngestToken,
    404: unknownSessionError,
  },
});

const ingestRoute = createRoute({
  method: 'post',
  path: '/internal/sessions/{id}/events',
  summary: "Append the agent's events to a session's log (agent workers only)",
  request: {
    params: z.object({ id: z.string().min(1).max(64) }),
    body: { content: { 'application/json': { schema: ingestRequestSchema } }, required: true },
  },
  responses: {
    200: {
      description: 'Appended',
      content: {
        'application/json': { schema: z.object({ appended: z.number(), last_seq: z.number() }) },
      },
    },
    400: errorResponse('Invalid batch', ['invalid_request']),
    401: noIngestToken,
    404: unknownSessionError,
    413: errorResponse('Batch over 4 MiB', ['request_too_large']),
    415: errorResponse('A body that is not JSON', ['unsupported_media_type']),
  },
});

export function ingestRoutes({ store, ingestTokens }: Pick<AppDeps, 'store' | 'ingestTokens'>) {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  // A middleware, so the token is checked before the body is read and validated: a caller without
  // one learns nothing about the body it sent and costs no parsing.
  app.use('/internal/sessions/:id/*', async function requireIngestToken(c, next) {
    const token = bearerToken(c.req.header('authorization'));
    const tokenSession = token ? await ingestTokens.verify(token) : null;
    if (tokenSession !== c.req.param('id'))
      throw apiError(401, 'invalid_ingest_token', 'No valid ingest token for this session.');
    return next();
  });
  app.openapi(ingestRoute, async (c) => {
    const { id } = c.req.valid('param');
    await loadSession(store, id);
    // After the end (DELETE, or the call closing) the store appends nothing: 0 appended.
    const appended = await store.appendEvents(id, c.req.valid('json').events);
    return c.json({ appended: appended.length, last_seq: appended.at(-1)?.seq ?? 0 }, 200);
  });
  app.openapi(historyRoute, async (c) => {
    const { id } = c.req.valid('param');
    await loadSession(store, id);
    const items = (await store.readConversation(id)).map(({ role, text, source, item_id }) => ({
      role,
      text,
      source,
      item_id,
    }));
    return c.json({ items }, 200);
  });
  return app;
}
