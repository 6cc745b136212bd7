/**
 * Session lifecycle: create (a LiveKit room with the agent already dispatched into it), read,
 * refresh the participant token, and end. Everything but creation needs the session token.
 */
import { randomBytes } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import {
  createSessionRequestSchema,
  createSessionResponseSchema,
  errorBodySchema,
  participantTokenResponseSchema,
  sessionResponseSchema,
} from '../../common/protocol.js';
import { requireApiKey } from '../api-keys.js';
import type { AppDeps } from '../app.js';
import { apiError } from '../errors.js';
import { loadSession, requireSessionToken } from '../session-auth.js';
import type { SessionRecord } from '../store/types.js';
import { validationHook } from '../validation.js';

/** The agent job's ingest token outlives any call. */
const INGEST_TOKEN_TTL_S = 24 * 3600;

const randomId = (bytes: number) => randomBytes(bytes).toString('base64url');
const json = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { 'application/json': { schema } },
});
const errors = {
  400: json('Invalid request', errorBodySchema),
  401: json('Missing or invalid credentials', errorBodySchema),
};
const sessionErrors = {
  ...errors,
  403: json('The session token is for another session', errorBodySchema),
  404: json('Unknown session', errorBodySchema),
};
const idParam = z.object({ id: z.string().min(1).max(64) });

const createSessionRoute = createRoute({
  method: 'post',
  path: '/api/sessions',
  summary: 'Create a session: a LiveKit room with the agent dispatched into it',
  request: {
    body: {
      content: { 'application/json': { schema: createSessionRequestSchema } },
      required: false,
    },
  },
  responses: {
    201: json('Created', createSessionResponseSchema),
    ...errors,
    503: json('LiveKit unavailable', errorBodySchema),
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
  summary: 'A fresh participant token for the same room and identity',
  request: { params: idParam },
  responses: {
    200: json('A new participant token', participantTokenResponseSchema),
    ...sessionErrors,
    409: json('The session has ended', errorBodySchema),
  },
});

const endSessionRoute = createRoute({
  method: 'delete',
  path: '/api/sessions/{id}',
  summary: 'End the conversation: the agent leaves and the room is deleted',
  request: { params: idParam },
  responses: { 200: json('Ended', sessionResponseSchema), ...sessionErrors },
});

const describeSession = (session: SessionRecord) => ({
  sessionId: session.sessionId,
  roomName: session.roomName,
  state: session.state,
  live: session.live,
  createdAt: session.createdAt,
  lastActivityAt: session.lastActivityAt,
  endedAt: session.endedAt,
});

export function sessionRoutes(deps: AppDeps) {
  const { config, livekit, sessionTokens, ingestTokens, store, logger } = deps;
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.use('/api/sessions', requireApiKey(config.API_KEYS));
  app.use('/api/sessions/:id', requireSessionToken(sessionTokens));
  app.use('/api/sessions/:id/token', requireSessionToken(sessionTokens));

  const participantToken = async (session: SessionRecord) => {
    const ttlSeconds = config.PARTICIPANT_TOKEN_TTL_S;
    return {
      participantToken: await livekit.createParticipantToken({
        roomName: session.roomName,
        identity: session.participantIdentity,
        ...(session.username !== null && { name: session.username }),
        ttlSeconds,
      }),
      expiresAt: new Date(Date.now() + ttlSeconds * 1000).toISOString(),
    };
  };

  app.openapi(createSessionRoute, async (c) => {
    const body = c.req.valid('json') ?? {};
    const sessionId = randomId(16);
    const session = await store.createSession({
      sessionId,
      roomName: `session-${sessionId}`,
      participantIdentity: `user-${randomId(9)}`,
      userId: body.userId ?? null,
      username: body.username ?? null,
      instructions: body.instructions ?? null,
      createdAt: new Date().toISOString(),
    });
    const ingest = await ingestTokens.issue(sessionId, INGEST_TOKEN_TTL_S);
    try {
      await livekit.createRoomWithAgent(session.roomName, {
        sessionId,
        ingestToken: ingest.token,
        ...(body.instructions !== undefined && { instructions: body.instructions }),
      });
    } catch (error) {
      logger.error({ err: error, sessionId }, 'could not create the LiveKit room');
      await store.appendEvents(sessionId, [
        {
          event_type: 'session_ended',
          reason: 'livekit_unavailable',
          timestamp: new Date().toISOString(),
        },
      ]);
      throw apiError(503, 'livekit_unavailable', 'The LiveKit server could not create the room.');
    }
    const token = await sessionTokens.issue(sessionId, config.SESSION_TOKEN_TTL_S);
    const baseUrl = config.PUBLIC_URL ?? new URL(c.req.url).origin;
    logger.info({ sessionId, roomName: session.roomName }, 'session created');
    return c.json(
      {
        sessionId,
        roomName: session.roomName,
        livekitUrl: livekit.url,
        participantToken: (await participantToken(session)).participantToken,
        participantIdentity: session.participantIdentity,
        sessionToken: token.token,
        eventsUrl: `${baseUrl}/api/sessions/${sessionId}/events`,
        expiresAt: token.expiresAt.toISOString(),
      },
      201,
    );
  });

  app.openapi(getSessionRoute, async (c) => {
    return c.json(describeSession(await loadSession(store, c.req.valid('param').id)), 200);
  });

  app.openapi(refreshTokenRoute, async (c) => {
    const session = await loadSession(store, c.req.valid('param').id);
    if (session.endedAt) throw apiError(409, 'session_ended', 'The session has ended.');
    return c.json(
      {
        sessionId: session.sessionId,
        roomName: session.roomName,
        livekitUrl: livekit.url,
        participantIdentity: session.participantIdentity,
        ...(await participantToken(session)),
      },
      200,
    );
  });

  app.openapi(endSessionRoute, async (c) => {
    const session = await loadSession(store, c.req.valid('param').id);
    if (session.endedAt) return c.json(describeSession(session), 200);
    // The end is logged before the room goes: while LiveKit answers, a second DELETE, or the agent
    // reporting its own session_ended as the room closes on it, finds the session already ended
    // instead of logging a second end.
    await store.appendEvents(session.sessionId, [
      {
        event_type: 'session_ended',
        reason: 'ended_by_client',
        timestamp: new Date().toISOString(),
      },
    ]);
    // Deleting the room disconnects everyone in it, the agent included.
    await livekit.deleteRoom(session.roomName).catch((error: unknown) => {
      logger.warn({ err: error, sessionId: session.sessionId }, 'room already gone or unreachable');
    });
    logger.info({ sessionId: session.sessionId }, 'session ended');
    return c.json(describeSession(await loadSession(store, session.sessionId)), 200);
  });

  return app;
}
