/**
 * Text chat and voice share one conversation, through the real stack: a message typed during a
 * live call is answered by the agent in the call's context and spoken to the caller; a session
 * that began as text chat starts its first call with that history in the agent's context.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_LIVEKIT_SECRET } from '../../common/config.js';
import type {
  ChatResponse,
  ParticipantTokenResponse,
  SessionEvent,
  TranscriptResponse,
} from '../../common/protocol.js';
import { echoUserMessages, messageText } from '../providers/openai.js';
import { type CallerSession, ScriptedCaller } from '../support/caller.js';
import { startTestStack, TEST_PROVIDER_KEYS, type TestStack } from '../support/harness.js';
import { readServiceLog } from '../support/logs.js';
import { FeedSubscriber } from '../support/sse.js';

/** Any JWT: session, ingest and LiveKit participant tokens alike. */
const JWT = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/;
const INFO = 30;

interface LogLine {
  level: number;
  msg: string;
  sessionId?: string;
  jobID?: string;
  room_id?: string;
}

describe('text chat in the same conversation as voice', () => {
  let stack: TestStack;
  /** The sessions this file opens, with the tokens they were handed: the logs must keep neither. */
  const sessions: Pick<CallerSession, 'sessionId' | 'sessionToken' | 'participantToken'>[] = [];

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
    sessions.push(caller.session);
    const { sessionId, sessionToken, eventsUrl } = caller.session;
    const feed = await FeedSubscriber.open(eventsUrl, sessionToken);
    try {
      await feed.waitFor((e) => e.event_type === 'session_started');
      await caller.waitForTurnState('idle', 0, 30_000);
      stack.deepgram.scriptTranscripts(['My name is Ada.']);
      const spoken = await caller.say('My name is Ada.');
      await caller.waitForAgentSpeech(spoken);
      await feed.waitFor((e) => e.event_type === 'metrics', 30_000);

      stack.openai.setReply(echoUserMessages);
      const sentAt = Date.now();
      const reply = await chat({ message: 'What is my name?', sessionId }, sessionToken);

      const request = stack.openai.chatRequests().at(-1);
      expect(request?.messages.map((m) => [m.role, messageText(m)])).toContainEqual([
        'user',
        'My name is Ada.',
      ]);
      expect(messageText(request?.messages.at(-1))).toBe('What is my name?');
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
    sessions.push({ ...grant, sessionToken: token });
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
      // The answer is heard out, so it is in the transcript (and its playout in the agent's log).
      await caller.waitForTurnState('idle', await caller.waitForAgentSpeech(spoken));
      const conversation = stack.openai
        .chatRequests()
        .at(-1)
        ?.messages.map((m) => [m.role, messageText(m)]);
      expect(conversation).toContainEqual(['user', 'Remember the word giraffe.']);
      expect(conversation).toContainEqual(['assistant', 'Noted.']);
      expect(conversation?.at(-1)).toEqual(['user', 'Which word did I ask you to remember?']);
    } finally {
      await caller.leave();
    }
  });

  it('logs no token or secret, nothing said at info level, and the session of each line', async () => {
    const transcriptTexts = async ({ sessionId, sessionToken }: (typeof sessions)[number]) => {
      const response = await fetch(`${stack.apiUrl}/api/sessions/${sessionId}/transcript`, {
        headers: { authorization: `Bearer ${sessionToken}` },
      });
      return ((await response.json()) as TranscriptResponse).items.map((item) => item.text);
    };
    const conversation = async () => (await Promise.all(sessions.map(transcriptTexts))).flat();
    // Both sessions' spoken and typed turns, and the agent's answers to them.
    await expect.poll(conversation).toHaveLength(8);
    const said = await conversation();
    const secrets = [
      ...Object.values(TEST_PROVIDER_KEYS),
      DEV_LIVEKIT_SECRET,
      ...sessions.flatMap((session) => [session.sessionToken, session.participantToken]),
    ];
    const api = await readServiceLog<LogLine>(stack.logDir, 'api');
    const agent = await readServiceLog<LogLine>(stack.logDir, 'agent');

    const leaks = [...api, ...agent].flatMap((line) => {
      const json = JSON.stringify(line);
      const leaked = [
        ...(line.level >= INFO ? said.filter((text) => json.includes(text)) : []),
        ...secrets.filter((secret) => json.includes(secret)),
        ...(JWT.test(json) ? ['a token'] : []),
      ];
      return leaked.length > 0 ? [{ msg: line.msg, level: line.level, leaked }] : [];
    });
    expect(leaks).toEqual([]);

    // The API names the session of every line about it. The agent's job names it once it has read
    // the dispatch; the framework's own lines of the job name the job and its room.
    for (const { sessionId } of sessions) {
      const about = api.filter(
        (line) => line.level >= INFO && JSON.stringify(line).includes(sessionId),
      );
      expect(about.length).toBeGreaterThan(0);
      expect(about.filter((line) => line.sessionId !== sessionId)).toEqual([]);
      expect(agent).toContainEqual(
        expect.objectContaining({ msg: 'agent joined the call', sessionId }),
      );
    }
    const jobLines = agent.filter((line) => line.level >= INFO && line.jobID !== undefined);
    expect(jobLines.length).toBeGreaterThan(0);
    expect(jobLines.filter((line) => !line.sessionId && !line.room_id)).toEqual([]);
  });
});
