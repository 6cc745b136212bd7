/**
 * `GET /api/sessions/:id/events`: a session's event log as Server-Sent Events. It replays the log
 * after Last-Event-ID (or all of it), then follows live appends, each event exactly once and in
 * order; an ended session's stream closes after its last event.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppDeps } from '../deps.js';
import { apiError } from '../errors.js';
import type { Metrics } from '../metrics.js';
import { errorResponse, sessionTokenErrors, unknownSessionError } from '../openapi.js';
import { loadSession } from '../session-auth.js';
import { validationHook } from '../validation.js';
import { followSession } from './event-stream.js';

export interface EventStreamOptions {
  /** How often an idle stream gets a `: ping` comment, so proxies keep it open. */
  heartbeatMs?: number;
  /** Live events a subscriber may have waiting before it is dropped as too slow. */
  maxQueuedEvents?: number;
}

const RETRY_MS = 3000;
const eventsRoute = createRoute({
  method: 'get',
  path: '/api/sessions/{id}/events',
  summary: "Follow a session's events (Server-Sent Events), replaying from Last-Event-ID",
  request: {
    params: z.object({ id: z.string().min(1).max(64) }),
    query: z.object({
      token: z.string().optional().openapi({ description: 'The session token, for EventSource' }),
      lastEventId: z.string().optional().openapi({ description: 'Like the Last-Event-ID header' }),
    }),
    headers: z.object({
      'last-event-id': z.string().optional().openapi({
        description: 'Replay the events after this seq (a reconnecting EventSource sends it)',
      }),
    }),
  },
  responses: {
    200: {
      description: 'The event stream: `id: <seq>`, `event: <event_type>`, `data: <event JSON>`',
      content: { 'text/event-stream': { schema: z.string() } },
    },
    400: errorResponse('Last-Event-ID is not a sequence number, or the id not a session id', [
      'invalid_request',
    ]),
    ...sessionTokenErrors,
    404: unknownSessionError,
  },
});

/**
 * The seq to replay after. The header wins: on reconnect a browser sends the URL it first used,
 * with its old `?lastEventId=`, and the newer id in the header.
 */
function replayAfter(header: string | undefined, query: string | undefined): number {
  const value = header?.trim() || query?.trim();
  if (!value) return 0;
  if (!/^\d{1,15}$/.test(value)) {
    throw apiError(400, 'invalid_request', 'Last-Event-ID must be an event sequence number.');
  }
  return Number(value);
}

/** The feed; the session token is checked for the whole `/api/sessions/:id` scope. */
export function eventRoutes(
  {
    store,
    logger,
    closing,
    eventStream = {},
  }: Pick<AppDeps, 'store' | 'logger' | 'closing' | 'eventStream'>,
  metrics: Metrics,
) {
  const { heartbeatMs = 15_000, maxQueuedEvents = 1000 } = eventStream;
  const app = new OpenAPIHono({ defaultHook: validationHook });

  app.openapi(eventsRoute, async (c) => {
    const { id: sessionId } = c.req.valid('param');
    const afterSeq = replayAfter(c.req.header('last-event-id'), c.req.valid('query').lastEventId);
    const session = await loadSession(store, sessionId);

    metrics.sse.opened();
    const body = followSession({
      store,
      sessionId,
      afterSeq,
      endsWithLog: session.endedAt !== null,
      retryMs: RETRY_MS,
      closing,
      heartbeatMs,
      maxQueuedEvents,
      onDrop() {
        metrics.sse.dropped();
        logger.warn({ sessionId, maxQueuedEvents }, 'dropped a slow subscriber');
      },
      onClose: metrics.sse.closed,
      onError(err) {
        logger.error({ err, sessionId }, 'event stream failed');
      },
    });
    return c.body(body, 200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      // Tells nginx-style proxies to pass frames through as they come instead of buffering them.
      'x-accel-buffering': 'no',
    });
  });
  return app;
}
