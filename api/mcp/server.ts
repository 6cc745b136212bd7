/**
 * The API's MCP server: five tools over the same services as the HTTP routes, so a conversation
 * started, continued, read or ended here is the one the routes, the call page and the agent see.
 * A new server serves each request (stateless); `caller` is who sent it. Tools that name a session
 * take its session token too, as every session-scoped route does, so an API key reaches only the
 * sessions whose tokens it was given (in practice: those it opened).
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import {
  chatJsonRequestSchema,
  createSessionRequestSchema,
  sessionResponseSchema,
  TRANSCRIPT_PAGE_DEFAULT,
  TRANSCRIPT_PAGE_MAX,
  transcriptResponseSchema,
} from '../../common/protocol.js';
import { type ChatTurnDeps, startChatTurn } from '../chat/chat-turn.js';
import { checkPresentedToken, loadSession } from '../session-auth.js';
import { endSession, issueParticipantToken, openSession } from '../session-service.js';
import { describeSession } from '../session-view.js';
import { readTranscriptPage } from '../transcript.js';
import { toolResult } from './results.js';

export interface McpCaller {
  /** `c.var.client`: the owner of the sessions it opens, as for the HTTP routes. */
  client: string;
  /** Where the API's URLs start: PUBLIC_URL, or the request's origin. */
  baseUrl: string;
  /** The request's: the client going away cancels a reply, as on `/api/chat`. */
  signal: AbortSignal;
}

const { instructions, userId, username } = createSessionRequestSchema.shape;
const sessionArguments = {
  sessionId: chatJsonRequestSchema.shape.sessionId
    .unwrap()
    .describe('The session, from start_conversation'),
  sessionToken: z
    .string()
    .min(1)
    .describe('The session token start_conversation answered (or POST /api/sessions)'),
};

const conversationStarted = {
  sessionId: z.string(),
  sessionToken: z.string().describe('Pass it to the other tools with the sessionId'),
  expiresAt: z.string().describe('When the session token expires'),
  eventsUrl: z.string().describe('The SSE feed of the session, with the session token'),
  voice: z.boolean(),
  roomName: z.string().optional(),
  livekitUrl: z.string().optional(),
  participantIdentity: z.string().optional(),
  participantToken: z.string().optional(),
  joinUrl: z.string().optional().describe('The call page, joining this call (holds the token)'),
};

export function createMcpServer(deps: ChatTurnDeps, caller: McpCaller, version: string) {
  const { store, sessionTokens } = deps;
  const server = new McpServer({ name: 'voice-agent-server', version });
  const log = (err: Error) => deps.logger.error({ err }, 'MCP tool failed');
  const checkAccess = ({ sessionId, sessionToken }: { sessionId: string; sessionToken: string }) =>
    checkPresentedToken(sessionTokens, sessionToken, sessionId);

  server.registerTool(
    'start_conversation',
    {
      description:
        'Start a conversation with the voice agent. With voice, the agent waits in a call that a person joins at joinUrl; without, talk to it with send_message.',
      inputSchema: {
        instructions: instructions.describe("The agent's instructions for this conversation"),
        voice: z.boolean().default(false).describe('Open a call (LiveKit room with the agent)'),
        userId,
        username,
      },
      outputSchema: conversationStarted,
    },
    ({ voice, ...input }) =>
      toolResult(async () => {
        const opened = await openSession(deps, { ...input, withCall: voice, owner: caller.client });
        const { session, sessionToken } = opened;
        const { sessionId } = session;
        const started = {
          sessionId,
          sessionToken,
          expiresAt: opened.sessionTokenExpiresAt.toISOString(),
          eventsUrl: `${caller.baseUrl}/api/sessions/${sessionId}/events`,
          voice,
        };
        if (!voice) return started;
        const handoff = new URLSearchParams({ session: sessionId, token: sessionToken });
        return {
          ...started,
          roomName: session.roomName,
          livekitUrl: deps.livekit.url,
          participantIdentity: session.participantIdentity,
          participantToken: (await issueParticipantToken(deps, session)).participantToken,
          joinUrl: `${caller.baseUrl}/#${handoff}`,
        };
      }, log),
  );

  server.registerTool(
    'send_message',
    {
      description:
        "Send a text message in the conversation and get the agent's reply. During a live call the agent answers in the call, aloud.",
      inputSchema: { ...sessionArguments, text: chatJsonRequestSchema.shape.message },
      outputSchema: { sessionId: z.string(), reply: z.string() },
    },
    ({ text, ...session }, extra) =>
      toolResult(async () => {
        await checkAccess(session);
        const turn = await startChatTurn(
          deps,
          { type: 'text', message: text, sessionId: session.sessionId },
          {
            owner: caller.client,
            signal: AbortSignal.any([caller.signal, extra.signal]),
            baseUrl: caller.baseUrl,
          },
        );
        const { message } = await turn.reply(() => {});
        return { sessionId: session.sessionId, reply: message };
      }, log),
  );

  server.registerTool(
    'get_transcript',
    {
      description:
        'The conversation so far, spoken or typed, a page at a time: the next page is after nextAfter.',
      inputSchema: {
        ...sessionArguments,
        after: z.number().int().min(0).optional().describe('The nextAfter of the previous page'),
        limit: z
          .number()
          .int()
          .min(1)
          .max(TRANSCRIPT_PAGE_MAX)
          .optional()
          .describe(`Items in the page (${TRANSCRIPT_PAGE_DEFAULT} by default)`),
      },
      outputSchema: transcriptResponseSchema.shape,
    },
    ({ after = 0, limit = TRANSCRIPT_PAGE_DEFAULT, ...session }) =>
      toolResult(async () => {
        await checkAccess(session);
        const { sessionId } = await loadSession(store, session.sessionId);
        return readTranscriptPage(store, sessionId, { after, limit });
      }, log),
  );

  server.registerTool(
    'get_session',
    {
      description: "The session's state: whether a call is live, the turn state, when it expires.",
      inputSchema: sessionArguments,
      outputSchema: sessionResponseSchema.shape,
    },
    (session) =>
      toolResult(async () => {
        await checkAccess(session);
        return describeSession(deps, await loadSession(store, session.sessionId));
      }, log),
  );

  server.registerTool(
    'end_conversation',
    {
      description:
        'End the conversation: the agent leaves the call and the session takes no more messages.',
      inputSchema: sessionArguments,
      outputSchema: sessionResponseSchema.shape,
    },
    (session) =>
      toolResult(async () => {
        await checkAccess(session);
        return describeSession(deps, await endSession(deps, session.sessionId));
      }, log),
  );

  return server;
}
