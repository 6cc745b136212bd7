/**
 * `POST /api/chat`: a text (or voice) message in a session's conversation, from clients without a
 * microphone or with only HTTP. Two body forms, one behaviour: JSON `{message, sessionId?, stream?}`
 * or the multipart form `message, type, sessionId, userId, username, audio`. Without a sessionId it
 * opens a session. With `stream: true` or `Accept: text/event-stream` the reply streams as SSE
 * `delta` frames and one `done` frame; closing the connection cancels the LLM request at once.
 */

import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { type SSEStreamingApi, streamSSE } from 'hono/streaming';
import {
  chatFormRequestSchema,
  chatJsonRequestSchema,
  chatResponseSchema,
} from '../../common/protocol.js';
import { type ChatRequest, type ChatTurnDeps, startChatTurn } from '../chat/chat-turn.js';
import type { AppDeps } from '../deps.js';
import { ApiError, apiError, errorBody } from '../errors.js';
import { errorResponse, pageTicketHeader, unknownSessionError } from '../openapi.js';
import { checkSessionOpener, sessionInstructions } from '../page-access.js';
import { checkSessionToken } from '../session-auth.js';
import { validationError } from '../validation.js';

async function readChatRequest(c: Context): Promise<ChatRequest> {
  const contentType = c.req.header('content-type') ?? '';
  if (contentType.startsWith('application/json')) {
    const body = await c.req.json().catch(() => {
      throw apiError(400, 'invalid_request', 'The body is not valid JSON.');
    });
    const parsed = chatJsonRequestSchema.safeParse(body);
    if (!parsed.success) throw validationError(parsed.error);
    return { ...parsed.data, type: 'text' };
  }
  if (
    contentType.startsWith('multipart/form-data') ||
    contentType.startsWith('application/x-www-form-urlencoded')
  ) {
    const form = await c.req.parseBody().catch(() => {
      throw apiError(400, 'invalid_request', 'The form could not be read.');
    });
    const parsed = chatFormRequestSchema.safeParse(form);
    if (!parsed.success) throw validationError(parsed.error);
    return parsed.data;
  }
  throw apiError(415, 'unsupported_media_type', 'Send JSON or a multipart form.');
}

const wantsStream = (c: Context, request: ChatRequest) =>
  request.stream === true ||
  request.stream === 'true' ||
  (c.req.header('accept') ?? '').includes('text/event-stream');

/**
 * Parsed by hand (one route, two body forms), documented with the schemas that parse it, so the
 * document cannot promise what the parser refuses.
 */
const chatRouteDoc = {
  method: 'post',
  path: '/api/chat',
  summary: "A text or voice message in a session's conversation",
  request: {
    headers: pageTicketHeader,
    body: {
      content: {
        'application/json': { schema: chatJsonRequestSchema },
        'multipart/form-data': { schema: chatFormRequestSchema },
        'application/x-www-form-urlencoded': { schema: chatFormRequestSchema },
      },
    },
  },
  responses: {
    200: {
      description: 'The reply (JSON), or SSE `delta` frames and one `done` frame when streaming',
      content: {
        'application/json': { schema: chatResponseSchema },
        'text/event-stream': { schema: z.string() },
      },
    },
    400: errorResponse('Invalid message, form or audio', [
      'invalid_request',
      'audio_required',
      'audio_unreadable',
    ]),
    401: errorResponse(
      'Missing or invalid session token (or, for a new session, API key or page ticket)',
      [
        'session_token_required',
        'invalid_session_token',
        'api_key_required',
        'invalid_api_key',
        'invalid_page_ticket',
      ],
    ),
    403: errorResponse(
      'The session token is for another session, or a page ticket comes from another origin',
      ['forbidden', 'origin_not_allowed'],
    ),
    404: unknownSessionError,
    409: errorResponse('The session has ended or expired', ['session_ended', 'session_expired']),
    413: errorResponse('Audio or body too large', ['audio_too_large', 'request_too_large']),
    415: errorResponse('Neither JSON nor a form, or audio of an unsupported format', [
      'unsupported_media_type',
      'unsupported_audio',
    ]),
    422: errorResponse('Audio too long, or no speech in it', ['audio_too_long', 'no_speech']),
    429: errorResponse(
      'Too many messages from this client or in this session (with Retry-After), or too many open sessions',
      ['rate_limited', 'too_many_open_sessions'],
    ),
    502: errorResponse('A provider rejected the request', [
      'llm_request_rejected',
      'stt_request_rejected',
      'tts_request_rejected',
    ]),
    503: errorResponse('A provider (LLM, STT, TTS) or LiveKit is unavailable, or not configured', [
      'llm_unavailable',
      'stt_unavailable',
      'tts_unavailable',
      'provider_not_configured',
      'livekit_unavailable',
    ]),
    504: errorResponse('The agent of the live call did not answer in time', ['agent_timeout']),
  },
} as const;

export function chatRoutes(deps: ChatTurnDeps & Pick<AppDeps, 'pageTickets'>) {
  const { config, sessionTokens, logger } = deps;
  const checkNewSessionOpener = checkSessionOpener(config, deps.pageTickets);
  const app = new OpenAPIHono();
  app.openAPIRegistry.registerPath(chatRouteDoc);

  app.post('/api/chat', async (c) => {
    const request = await readChatRequest(c);
    // The session is named in the body, so its token is checked once the body is read, with the
    // same check that guards the `/api/sessions/:id` scope. A chat request brings no instructions:
    // a session it opens has the call page's in open mode, and the default ones otherwise.
    let instructions: string | undefined;
    if (request.sessionId) await checkSessionToken(sessionTokens, c, request.sessionId);
    else instructions = sessionInstructions(config, await checkNewSessionOpener(c), undefined);

    const signal = c.req.raw.signal;
    const turn = await startChatTurn(deps, request, {
      owner: c.get('client'),
      instructions,
      signal,
      baseUrl: config.PUBLIC_URL ?? new URL(c.req.url).origin,
    });
    if (!wantsStream(c, request)) return c.json(await turn.reply(() => {}), 200);
    return streamSSE(c, async (stream: SSEStreamingApi) => {
      try {
        const done = await turn.reply((text) => {
          void stream.writeSSE({ event: 'delta', data: JSON.stringify({ text }) });
        });
        if (!signal.aborted) await stream.writeSSE({ event: 'done', data: JSON.stringify(done) });
      } catch (error) {
        const known = error instanceof ApiError ? error : undefined;
        if (!known) logger.error({ err: error, sessionId: turn.sessionId }, 'chat stream failed');
        const body = errorBody(
          known?.code ?? 'internal_error',
          known?.message ?? 'Internal server error',
        );
        await stream.writeSSE({ event: 'error', data: JSON.stringify(body) });
      }
    });
  });
  return app;
}
