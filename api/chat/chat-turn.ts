/**
 * One message sent through `/api/chat`, from the checked request to the reply: the session it
 * continues (or a new one, opened only once a voice message's audio has passed, so a refused
 * recording leaves no session behind), the words of a voice message, the answer, and for a voice
 * message the answer spoken. The route checks credentials and renders the reply as JSON or SSE.
 */
import type { z } from 'zod';
import type {
  ChatResponse,
  chatFormRequestSchema,
  chatJsonRequestSchema,
} from '../../common/protocol.js';
import type { AppDeps } from '../deps.js';
import { continueSession, openSession, type SessionServiceDeps } from '../session-service.js';
import { answer, type ConversationDeps } from './conversation.js';

export type ChatRequest =
  | (z.infer<typeof chatJsonRequestSchema> & { type: 'text' })
  | z.infer<typeof chatFormRequestSchema>;

export type ChatTurnDeps = SessionServiceDeps & ConversationDeps & Pick<AppDeps, 'voiceMessages'>;

export interface ChatTurn {
  sessionId: string;
  /** Answers, passing each piece of the answer to `onDelta` as it comes. */
  reply(onDelta: (text: string) => void): Promise<ChatResponse>;
}

export async function startChatTurn(
  deps: ChatTurnDeps,
  request: ChatRequest,
  options: {
    /** Who sends it (`c.var.client`), the owner of a session it opens. */
    owner: string;
    /** The instructions of a session it opens (the call page's, in open mode). */
    instructions?: string | undefined;
    /** The request's: the client going away cancels the turn. */
    signal: AbortSignal;
    /** Where the reply audio's URL starts: it is absolute, like a session's eventsUrl. */
    baseUrl: string;
  },
): Promise<ChatTurn> {
  const { signal } = options;
  let session = request.sessionId ? await continueSession(deps, request.sessionId) : undefined;
  const userText =
    request.type === 'voice'
      ? await deps.voiceMessages.transcribe(request.audio, signal)
      : request.message;
  let sessionToken: string | undefined;
  if (!session) {
    const opened = await openSession(deps, {
      ...(options.instructions !== undefined && { instructions: options.instructions }),
      ...(request.userId !== undefined && { userId: request.userId }),
      ...(request.username !== undefined && { username: request.username }),
      withCall: false,
      owner: options.owner,
    });
    session = opened.session;
    sessionToken = opened.sessionToken;
  }
  const turnSession = session;
  return {
    sessionId: turnSession.sessionId,
    async reply(onDelta) {
      const message = await answer(deps, {
        session: turnSession,
        text: userText,
        source: request.type,
        signal,
        onDelta,
      });
      const audioUrl =
        request.type === 'voice' && !signal.aborted
          ? options.baseUrl + (await deps.voiceMessages.speak(message, signal))
          : undefined;
      return {
        message,
        type: request.type,
        sessionId: turnSession.sessionId,
        transcript: userText,
        ...(audioUrl !== undefined && { audioUrl }),
        ...(sessionToken !== undefined && { sessionToken }),
      };
    },
  };
}
