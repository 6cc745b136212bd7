/**
 * Session lifecycle: create (a LiveKit room with the agent already dispatched into it), read,
 * refresh the participant token, and end. Everything but creation needs the session token.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import {
  createSessionRequestSchema,
  createSessionResponseSchema,
  participantTokenResponseSchema,
  sessionResponseSchema,
} from '../../common/protocol.js';
import type { ApiConfig } from '../config.js';
import type { AppDeps } from '../deps.js';
import { apiError } from '../errors.js';
import {
  errorResponse,
  invalidIdError,
  jsonResponse,
  pageTicketHeader,
  sessionOpenerErrors,
  sessionTokenErrors,
  unknownSessionError,
} from '../openapi.js';
import {
  checkSessionOpener,
  requireSessionOpener,
  type SessionOpener,
  sessionInstructions,
} from '../page-access.js';
import { loadSession } from '../session-auth.js';
import {
  endSession,
  issueParticipantToken,
  joinCall,
  openSession,
  type SessionServiceDeps,
} from '../session-service.js';
import { describeSession } from '../session-view.js';
import { validationHook } from '../validation.js';

const json = jsonResponse;
const sessionErrors = { 400: invalidIdError, ...sessionTokenErrors, 404: unknownSessionError };
const livekitUnavailable = errorResponse('LiveKit unavailable', ['livekit_unavailable']);
const idParam = z.object({ id: z.string().min(1).max(64) });

const createSessionRoute = createRoute({
  method: 'post',
  path: '/api/sessions',
  summary: 'Create a session: a LiveKit room with the agent dispatched into it',
  request: {
    headers: pageTicketHeader,
    body: {
      content: { 'application/json': { schema: createSessionRequestSchema } },
      required: false,
    },
  },
  responses: {
    201: json('Created', createSessionResponseSchema),
    400: errorResponse('Invalid body', ['invalid_request']),
    ...sessionOpenerErrors,
    413: errorResponse('Body over 128 KiB', ['request_too_large']),
    415: errorResponse('A body that is not JSON', ['unsupported_media_type']),
    429: errorResponse(
      'Too many requests to open sessions (with Retry-After), or too many open sessions',
      ['rate_limited', 'too_many_open_sessions'],
    ),
    503: livekitUnavailable,
  },
});

const getSessionRoute = createRoute({
  method: 'get',
  path: '/api/sessions/{id}',
  summary: "A session's state",
  request: { params: idParam },
  responses: { 200: json('The session', sessionResponseSchema), ...sessionErrors },
});

const refreshTokenRoute = createRoute({
  method: 'post',
  path: '/api/sessions/{id}/token',
  summary:
    'A fresh participant token for the same room and identity; starts the call (room and agent) of a session that has none',
  request: { params: idParam },
  responses: {
    200: json('A new participant token', participantTokenResponseSchema),
    ...sessionErrors,
    409: errorResponse('The session has ended or expired', ['session_ended', 'session_expired']),
    503: livekitUnavailable,
  },
});

const endSessionRoute = createRoute({
  method: 'delete',
  path: '/api/sessions/{id}',
  summary: 'End the conversation: the agent leaves and the room is deleted',
  request: { params: idParam },
  responses: { 200: json('Ended', sessionResponseSchema), ...sessionErrors },
});

/** The session routes; the session token is checked for the whole `/api/sessions/:id` scope. */
export function sessionRoutes(deps: SessionServiceDeps & Pick<AppDeps, 'pageTickets'>) {
  const { config, livekit, store } = deps;
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.use('/api/sessions', requireSessionOpener(checkSessionOpener(config, deps.pageTickets)));

  app.openapi(createSessionRoute, async (c) => {
    const body = c.req.valid('json') ?? {};
    if (body.tools?.length) checkSessionTools(config, c.get('sessionOpener'));
    const { session, sessionToken, sessionTokenExpiresAt } = await openSession(deps, {
      ...body,
      instructions: sessionInstructions(config, c.get('sessionOpener'), body.instructions),
      withCall: body.voice !== false,
      owner: c.get('client'),
    });
    const sessionId = session.sessionId;
    const baseUrl = config.PUBLIC_URL ?? new URL(c.req.url).origin;
    return c.json(
      {
        sessionId,
        roomName: session.roomName,
        livekitUrl: livekit.url,
        participantToken: (await issueParticipantToken(deps, session)).participantToken,
        participantIdentity: session.participantIdentity,
        sessionToken,
        eventsUrl: `${baseUrl}/api/sessions/${sessionId}/events`,
        expiresAt: sessionTokenExpiresAt.toISOString(),
      },
      201,
    );
  });

  app.openapi(getSessionRoute, async (c) => {
    return c.json(describeSession(deps, await loadSession(store, c.req.valid('param').id)), 200);
  });

  app.openapi(refreshTokenRoute, async (c) => {
    const { session, ...token } = await joinCall(deps, c.req.valid('param').id);
    return c.json(
      {
        sessionId: session.sessionId,
        roomName: session.roomName,
        livekitUrl: livekit.url,
        participantIdentity: session.participantIdentity,
        ...token,
      },
      200,
    );
  });

  app.openapi(endSessionRoute, async (c) => {
    return c.json(describeSession(deps, await endSession(deps, c.req.valid('param').id)), 200);
  });

  return app;
}

/**
 * A session's own tools make this server send requests where the client says: only a backend (an
 * API key, or any client without API_KEYS) may bring them, never the call page; and in production
 * only with TOOLS_SIGNING_SECRET, so the tool's server can tell the calls are ours.
 */
function checkSessionTools(config: ApiConfig, opener: SessionOpener) {
  if (opener === 'page') {
    throw apiError(400, 'invalid_request', 'Sessions opened by the call page take no tools.');
  }
  if (config.NODE_ENV === 'production' && !config.TOOLS_SIGNING_SECRET) {
    throw apiError(
      400,
      'invalid_request',
      'This server cannot sign tool calls (no TOOLS_SIGNING_SECRET): it takes no session tools.',
    );
  }
}
