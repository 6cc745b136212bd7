/**
 * One text turn in a session's conversation. With a live call the agent answers it, in the
 * context of everything said by voice, and speaks the answer; without one the API answers from the
 * session's stored history with the same LLM settings. Either way both messages land in the
 * session's event log as `conversation_item`s.
 */
import { randomBytes } from 'node:crypto';
import type { SessionEvent, SessionEventBody } from '../../common/protocol.js';
import type { AppDeps } from '../deps.js';
import { apiError } from '../errors.js';
import type { SessionRecord } from '../store/types.js';
import { chatMessages } from './history.js';

export interface TextTurn {
  session: SessionRecord;
  text: string;
  source: 'text' | 'voice';
  signal: AbortSignal;
  onDelta: (text: string) => void;
}

/** How long a live call's agent may take to finish speaking its answer. */
const AGENT_REPLY_TIMEOUT_MS = 90_000;

const itemId = () => `item_chat_${randomBytes(9).toString('base64url')}`;
const now = () => new Date().toISOString();

/** Answers `turn` and resolves with the full reply; resolves '' if the client went away. */
/** What answering a text turn touches. */
export type ConversationDeps = Pick<
  AppDeps,
  'store' | 'chatLlm' | 'config' | 'livekit' | 'logger' | 'tools'
>;

export function answer(deps: ConversationDeps, turn: TextTurn): Promise<string> {
  return turn.session.live ? answerThroughAgent(deps, turn) : answerWithLlm(deps, turn);
}

async function answerWithLlm(
  { store, chatLlm, config, tools, logger }: ConversationDeps,
  turn: TextTurn,
): Promise<string> {
  const { sessionId, instructions } = turn.session;
  const history = await store.readConversation(sessionId, config.CHAT_HISTORY_MESSAGES);
  await store.appendEvents(sessionId, [
    {
      event_type: 'conversation_item',
      role: 'user',
      text: turn.text,
      source: turn.source,
      item_id: itemId(),
      timestamp: now(),
    },
  ]);
  const messages = chatMessages({ instructions, history, message: turn.text });
  // The tools' events, appended one after the other in the order they happen.
  let toolEvents = Promise.resolve();
  const report = (event: SessionEventBody) => {
    toolEvents = toolEvents
      .then(() => store.appendEvents(sessionId, [{ ...event, timestamp: now() }]))
      .then(
        () => {},
        (err: unknown) => logger.warn({ err, sessionId }, 'could not log a tool event'),
      );
  };
  const toolbox = tools?.forSession(turn.session, report);
  let reply = '';
  try {
    for await (const delta of chatLlm.streamReply(messages, turn.signal, toolbox)) {
      reply += delta;
      turn.onDelta(delta);
    }
  } finally {
    await toolEvents;
  }
  if (turn.signal.aborted) return '';
  await store.appendEvents(sessionId, [
    {
      event_type: 'conversation_item',
      role: 'assistant',
      text: reply,
      source: turn.source,
      item_id: itemId(),
      timestamp: now(),
    },
  ]);
  return reply;
}

/**
 * Hands the message to the agent and follows the session's log: the agent reports the message
 * (with the id given here), then speaks its reply; the `delta`s of the reply's `agent_speaking`
 * events are the stream, its `agent_finished` the end.
 */
async function answerThroughAgent(deps: ConversationDeps, turn: TextTurn): Promise<string> {
  const { store, livekit } = deps;
  const { sessionId, roomName } = turn.session;
  const id = itemId();
  return new Promise<string>((resolve, reject) => {
    let userItemSeq: number | undefined;
    let replyTurn: string | undefined;
    const finish = (settle: () => void) => {
      unsubscribe();
      clearTimeout(timer);
      turn.signal.removeEventListener('abort', onAbort);
      settle();
    };
    const onAbort = () => finish(() => resolve(''));
    const timer = setTimeout(
      () =>
        finish(() => reject(apiError(504, 'agent_timeout', 'The agent did not answer in time.'))),
      AGENT_REPLY_TIMEOUT_MS,
    );
    const unsubscribe = store.subscribe(sessionId, (events: SessionEvent[]) => {
      for (const event of events) {
        if (event.event_type === 'conversation_item' && event.item_id === id)
          userItemSeq = event.seq;
        if (userItemSeq === undefined || event.seq <= userItemSeq) continue;
        // The first reply spoken after the message is the answer to it.
        if (event.event_type === 'agent_speaking') replyTurn ??= event.turn_id;
        if (event.event_type === 'agent_speaking' && event.turn_id === replyTurn) {
          turn.onDelta(event.delta);
        }
        if (event.event_type === 'agent_finished' && event.turn_id === replyTurn) {
          return finish(() => resolve(event.text));
        }
        if (event.event_type === 'session_ended') {
          return finish(() => reject(apiError(409, 'session_ended', 'The session ended.')));
        }
      }
    });
    turn.signal.addEventListener('abort', onAbort);
    livekit
      .sendToAgent(roomName, { itemId: id, text: turn.text, source: turn.source })
      .catch((error: unknown) => {
        deps.logger.warn({ err: error, sessionId }, 'could not hand the message to the agent');
        finish(() =>
          reject(apiError(503, 'livekit_unavailable', 'The call could not be reached.')),
        );
      });
  });
}
