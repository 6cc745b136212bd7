/**
 * Text chat and voice share one conversation, through the real stack: a message typed during a
 * live call is answered by the agent in the call's context and spoken to the caller; a session
 * that began as text chat starts its first call with that history in the agent's context.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ChatResponse,
  ParticipantTokenResponse,
  SessionEvent,
} from '../../common/protocol.js';
import type { ChatMessage } from '../providers/openai.js';
import { ScriptedCaller } from '../support/caller.js';
import { startTestStack, type TestStack } from '../support/harness.js';
import { FeedSubscriber } from '../support/sse.js';

const text = (message: ChatMessage | undefined) =>
  typeof message?.content === 'string' ? message.content : JSON.stringify(message?.content);

describe('text chat in the same conversation as voice', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const chat = async (body: object, token?: string): Promise<ChatResponse> => {
    const response = await fetch(`${stack.apiUrl}/api/chat`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token && { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as ChatResponse;
  };

  it('answers a typed message during a call through the agent, which also speaks it', async () => {
    const caller = await ScriptedCaller.join(stack.apiUrl);
    const { sessionId, sessionToken, eventsUrl } = caller.session;
    const feed = await FeedSubscriber.open(eventsUrl, sessionToken);
    try {
      await feed.waitFor((e) => e.event_type === 'session_started');
      await caller.waitForTurnState('idle', 0, 30_000);
      stack.deepgram.scriptTranscripts(['My name is Ada.']);
      const spoken = await caller.say('My name is Ada.');
      await caller.waitForAgentSpeech(spoken);
      await feed.waitFor((e) => e.event_type === 'metrics', 30_000);

      stack.openai.setReply(
        (messages) =>
          `You told me: ${messages
            .filter((m) => m.role === 'user')
            .map(text)
            .join(' / ')}`,
      );
      const sentAt = Date.now();
      const reply = await chat({ message: 'What is my name?', sessionId }, sessionToken);

      const request = stack.openai.chatRequests().at(-1);
      expect(request?.messages.map((m) => [m.role, text(m)])).toContainEqual([
        'user',
        'My name is Ada.',
      ]);
      expect(text(request?.messages.at(-1))).toBe('What is my name?');
      expect(reply).toMatchObject({ type: 'text', sessionId, transcript: 'What is my name?' });
      expect(reply.message).toBe('You told me: My name is Ada. / What is my name?');
      expect(reply.sessionToken).toBeUndefined();
      await caller.waitForAgentSpeech(sentAt);

      const items = feed.events.filter(
        (e): e is Extract<SessionEvent, { event_type: 'conversation_item' }> =>
          e.event_type === 'conversation_item',
      );
      expect(items.map((i) => [i.role, i.source, i.text])).toEqual([
        ['user', 'voice', 'My name is Ada.'],
        ['assistant', 'voice', expect.any(String)],
        ['user', 'text', 'What is my name?'],
        ['assistant', 'voice', reply.message],
      ]);
    } finally {
      await feed.close();
      await caller.leave();
    }
  });

  it('starts the first call of a text session with the text history in context', async () => {
    stack.openai.setReply(() => 'Noted.');
    const first = await chat({ message: 'Remember the word giraffe.' });
    expect(first.sessionToken).toEqual(expect.any(String));
    const token = first.sessionToken as string;

    const joined = await fetch(`${stack.apiUrl}/api/sessions/${first.sessionId}/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(joined.status).toBe(200);
    const grant = (await joined.json()) as ParticipantTokenResponse;
    const caller = await ScriptedCaller.connect({
      ...grant,
      sessionToken: token,
      eventsUrl: `${stack.apiUrl}/api/sessions/${first.sessionId}/events`,
    });
    try {
      await caller.waitForTurnState('idle', 0, 30_000);
      stack.openai.setReply(() => 'It was giraffe.');
      stack.deepgram.scriptTranscripts(['Which word did I ask you to remember?']);
      const spoken = await caller.say('Which word did I ask you to remember?');
      await caller.waitForAgentSpeech(spoken);
      const conversation = stack.openai
        .chatRequests()
        .at(-1)
        ?.messages.map((m) => [m.role, text(m)]);
      expect(conversation).toContainEqual(['user', 'Remember the word giraffe.']);
      expect(conversation).toContainEqual(['assistant', 'Noted.']);
      expect(conversation?.at(-1)).toEqual(['user', 'Which word did I ask you to remember?']);
    } finally {
      await caller.leave();
    }
  });
});
