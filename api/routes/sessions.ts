/**
 * Session lifecycle routes. Creating a session creates its LiveKit room with the agent already
 * dispatched, and hands back everything a client needs to join and to follow the conversation.
 */
import { randomBytes } from 'node:crypto';
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import {
  createSessionRequestSchema,
  createSessionResponseSchema,
  errorBodySchema,
} from '../../common/protocol.js';
import { requireApiKey } from '../api-keys.js';
import type { AppDeps } from '../app.js';
import { apiError } from '../errors.js';
import { validationHook } from '../validation.js';

const randomId = (bytes: number) => randomBytes(bytes).toString('base64url');

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
    201: {
      description: 'Created',
      content: { 'application/json': { schema: createSessionResponseSchema } },
    },
    401: {
      description: 'API key missing or not valid (when API_KEYS is set)',
      content: { 'application/json': { schema: errorBodySchema } },
    },
    400: {
      description: 'Invalid body',
      content: { 'application/json': { schema: errorBodySchema } },
    },
    503: {
      description: 'LiveKit unavailable',
      content: { 'application/json': { schema: errorBodySchema } },
    },
  },
});

export function sessionRoutes({ config, livekit, sessionTokens, logger }: AppDeps) {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.use('/api/sessions', requireApiKey(config.API_KEYS));

  app.openapi(createSessionRoute, async (c) => {
    const body = c.req.valid('json') ?? {};
    const sessionId = randomId(16);
    const roomName = `session-${sessionId}`;
    const participantIdentity = `user-${randomId(9)}`;

    try {
      await livekit.createRoomWithAgent(roomName, {
        sessionId,
        ...(body.instructions !== undefined && { instructions: body.instructions }),
      });
    } catch (error) {
      logger.error({ err: error, roomName }, 'could not create the LiveKit room');
      throw apiError(503, 'livekit_unavailable', 'The LiveKit server could not create the room.');
    }

    const participantToken = await livekit.createParticipantToken({
      roomName,
      identity: participantIdentity,
      ...(body.username !== undefined && { name: body.username }),
      ttlSeconds: config.PARTICIPANT_TOKEN_TTL_S,
    });
    const session = await sessionTokens.issue(sessionId, config.SESSION_TOKEN_TTL_S);
    const baseUrl = config.PUBLIC_URL ?? new URL(c.req.url).origin;
    logger.info({ sessionId, roomName }, 'session created');

    return c.json(
      {
        sessionId,
        roomName,
        livekitUrl: livekit.url,
        participantToken,
        participantIdentity,
        sessionToken: session.token,
        eventsUrl: `${baseUrl}/api/sessions/${sessionId}/events`,
        expiresAt: session.expiresAt.toISOString(),
      },
      201,
    );
  });

  return app;
}
