/**
 * Process faults on the real stack, with real process kills: an agent job killed mid-call is
 * replaced by a new agent that knows the conversation; the API and the worker shut down cleanly on
 * SIGTERM; LiveKit restarts under a live API and worker, and a call it cut off resumes. LiveKit's webhooks reach the API signed, and forged or
 * expired ones are refused. (An API restart under SSE subscribers is in session-feed.test.ts.)
 */
import { ParticipantKind } from '@livekit/rtc-node';
import { AccessToken } from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_LIVEKIT_SECRET } from '../../common/config.js';
import {
  type HealthResponse,
  LIVEKIT_WEBHOOK_PATH,
  type ParticipantTokenResponse,
  type SessionEvent,
} from '../../common/protocol.js';
import { ScriptedCaller } from '../support/caller.js';
import { startTestStack, type TestStack } from '../support/harness.js';
import { readServiceLog } from '../support/logs.js';
import { jobProcessesInCalls } from '../support/processes.js';
import { FeedSubscriber } from '../support/sse.js';

/**
 * The API's wait for an agent to join a call before it sends another. A cold worker on a busy
 * two-core machine has taken 35 s to start a job, and a job is given twice this.
 */
const JOIN_TIMEOUT_S = 30;
const DRAIN_TIMEOUT_S = 60;

const ofType = <T extends SessionEvent['event_type']>(events: SessionEvent[], type: T) =>
  events.filter((e): e is Extract<SessionEvent, { event_type: T }> => e.event_type === type);
const at = (event: SessionEvent) => Date.parse(event.timestamp);
const isIdle = (event: SessionEvent) =>
  event.event_type === 'state_change' && event.new_state === 'idle';

/** Agents the caller sees in its call: never more than one. */
const agentsInCall = (caller: ScriptedCaller) =>
  [...caller.room.remoteParticipants.values()].filter((p) => p.kind === ParticipantKind.AGENT)
    .length;

const isRunning = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('process faults', () => {
  let stack: TestStack;
  const callers: ScriptedCaller[] = [];
  const feeds: FeedSubscriber[] = [];

  /** A caller in a new session, followed on the feed, once its agent is ready. */
  const joinCall = async ({ waitForAgent = true } = {}) => {
    const caller = await ScriptedCaller.join(stack.apiUrl);
    callers.push(caller);
    const feed = await FeedSubscriber.open(caller.session.eventsUrl, caller.session.sessionToken);
    feeds.push(feed);
    if (waitForAgent) await feed.waitFor(isIdle, 3 * JOIN_TIMEOUT_S * 1000, 'the agent');
    return { caller, feed };
  };
  const speakTurn = async (caller: ScriptedCaller, feed: FeedSubscriber, text: string) => {
    stack.deepgram.scriptTranscripts([text]);
    const before = feed.lastSeq;
    await caller.say(text);
    return feed.waitFor((e) => e.seq > before && e.event_type === 'agent_finished', 60_000, text);
  };
  const health = async () =>
    (await (await fetch(`${stack.apiUrl}/health`)).json()) as HealthResponse;
  /** The API's log lines about dispatching a replacement agent into the session's call. */
  const replacements = async (sessionId: string) =>
    (await readServiceLog<{ msg: string; sessionId?: string }>(stack.logDir, 'api')).filter(
      (line) => line.sessionId === sessionId && line.msg.startsWith('the call had no agent'),
    );

  beforeAll(async () => {
    stack = await startTestStack({
      AGENT_JOIN_TIMEOUT_S: String(JOIN_TIMEOUT_S),
      AGENT_DRAIN_TIMEOUT_S: String(DRAIN_TIMEOUT_S),
    });
  });

  afterAll(async () => {
    await Promise.all(feeds.map((feed) => feed.close()));
    await Promise.all(callers.map((caller) => caller.leave().catch(() => {})));
    await stack?.stop();
  });

  it('refuses forged and expired webhooks with the JSON error', async () => {
    const body = JSON.stringify({
      event: 'participant_left',
      room: { name: 'session-x' },
      participant: { identity: 'agent-x', kind: 'AGENT' },
    });
    const sign = async (secret: string, ttlSeconds: number) => {
      const token = new AccessToken('devkey', secret, { ttl: ttlSeconds });
      token.sha256 = Buffer.from(await crypto.subtle.digest('SHA-256', Buffer.from(body))).toString(
        'base64',
      );
      return token.toJwt();
    };
    for (const authorization of [
      await sign('forged-secret-0123456789abcdef0123', 600),
      await sign(DEV_LIVEKIT_SECRET, -120),
    ]) {
      const response = await fetch(`${stack.apiUrl}${LIVEKIT_WEBHOOK_PATH}`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/webhook+json' },
        body,
      });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({
        error: { code: 'invalid_webhook', message: expect.any(String) },
        timestamp: expect.any(String),
      });
    }
  });

  it('replaces a killed agent job: agent_lost, then a new agent that continues the conversation', async () => {
    const { caller, feed } = await joinCall();
    stack.openai.setReply((messages) => {
      const said = messages.map((m) => (typeof m.content === 'string' ? m.content : ''));
      if (!said.at(-1)?.includes('What is my name')) return 'Nice to meet you, Ada.';
      return said.includes('My name is Ada.') ? 'Your name is Ada.' : 'I do not know your name.';
    });
    await speakTurn(caller, feed, 'My name is Ada.');

    const jobs = jobProcessesInCalls(stack);
    expect(jobs).toHaveLength(1);
    const killedAt = Date.now();
    process.kill(jobs[0] as number, 'SIGKILL');

    const lost = await feed.waitFor((e) => e.event_type === 'error', 90_000, 'agent_lost');
    expect(lost).toMatchObject({ error_code: 'agent_lost', recoverable: true });
    const restarted = await feed.waitFor(
      (e) => e.event_type === 'session_started' && e.seq > lost.seq,
      60_000,
      'the new agent',
    );
    await feed.waitFor((e) => e.seq > restarted.seq && isIdle(e), 30_000, 'the new agent idle');
    const beforeQuestion = feed.lastSeq;
    const heardBefore = Date.now();
    const answer = await speakTurn(caller, feed, 'What is my name?');
    await caller.waitForAgentSpeech(heardBefore);

    expect(answer).toMatchObject({ text: 'Your name is Ada.', interrupted: false });
    // The new agent speaks only when spoken to.
    const resumed = feed.events.filter((e) => e.seq > restarted.seq && e.seq <= beforeQuestion);
    expect(ofType(resumed, 'agent_speaking')).toHaveLength(0);
    const lastRequest = stack.openai.chatRequests().at(-1);
    expect(lastRequest?.messages.map((m) => [m.role, m.content])).toEqual(
      expect.arrayContaining([
        ['user', 'My name is Ada.'],
        ['assistant', 'Nice to meet you, Ada.'],
        ['user', 'What is my name?'],
      ]),
    );
    const events = feed.events;
    expect(ofType(events, 'session_started').map((e) => e.room_name)).toEqual([
      `session-${caller.session.sessionId}`,
      `session-${caller.session.sessionId}`,
    ]);
    expect(ofType(events, 'error')).toHaveLength(1);
    expect(ofType(events, 'session_ended')).toHaveLength(0);
    expect(agentsInCall(caller)).toBe(1);
    console.info(
      `killed job: agent_lost after ${at(lost) - killedAt} ms, new agent started after ${at(restarted) - killedAt} ms`,
    );

    // Ending the session on purpose takes the agent away for good.
    const ended = await fetch(`${stack.apiUrl}/api/sessions/${caller.session.sessionId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${caller.session.sessionToken}` },
    });
    expect(ended.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect(await replacements(caller.session.sessionId)).toHaveLength(1);
  }, 240_000);

  it('shuts the API down on SIGTERM: feeds get their events and a retry hint; after the restart they resume and lose nothing', async () => {
    const { caller, feed } = await joinCall();
    const reply = 'The river runs to the sea. It is long and slow and cold.';
    stack.openai.setReply(() => reply);
    stack.deepgram.scriptTranscripts(['Tell me about the river.']);
    await caller.say('Tell me about the river.');
    await feed.waitFor((e) => e.event_type === 'agent_speaking', 30_000, 'the reply');

    const termAt = Date.now();
    let exitedAt = 0;
    await stack.restart('api', {
      async whileDown() {
        exitedAt = Date.now();
        await feed.ended;
      },
    });
    // The stream ended with a second retry hint, spread between 0.5 and 3 s, after its events.
    expect(feed.retryHints).toHaveLength(2);
    expect(feed.retryHints[1]).toBeGreaterThanOrEqual(500);
    expect(feed.retryHints[1]).toBeLessThanOrEqual(3000);
    expect(exitedAt - termAt).toBeLessThan(5000);
    const apiLog = await readServiceLog<{ msg: string }>(stack.logDir, 'api');
    expect(apiLog.map((line) => line.msg)).toContain('shutting down');
    expect(apiLog.map((line) => line.msg)).not.toContain(
      'requests still running after the shutdown grace period; closing them',
    );

    // The call went on meanwhile; its events reached the log once the API was back.
    const resumed = await FeedSubscriber.open(
      caller.session.eventsUrl,
      caller.session.sessionToken,
      feed.lastSeq,
    );
    feeds.push(resumed);
    await resumed.waitFor((e) => e.event_type === 'agent_finished', 60_000, 'the reply to end');
    const seqs = [...feed.events, ...resumed.events].map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(ofType(resumed.events, 'agent_finished')).toMatchObject([
      { text: reply, interrupted: false },
    ]);
    expect(ofType(resumed.events, 'error')).toHaveLength(0);
    const turn = await speakTurn(caller, resumed, 'And the sea?');
    expect(turn).toMatchObject({ text: reply, interrupted: false });
    // Hung up, so the worker is free for the next test.
    await caller.leave();
    await resumed.waitFor((e) => e.event_type === 'session_ended', 30_000, 'the end of the call');
    console.info(`API shutdown: exited ${exitedAt - termAt} ms after SIGTERM`);
  }, 120_000);

  it('drains the worker on SIGTERM: the reply in progress completes, new calls wait for the next worker', async () => {
    const { caller, feed } = await joinCall();
    const reply = 'The sea is wide. The sea is deep. The sea is full of fish.';
    stack.openai.setReply(() => reply);
    stack.deepgram.scriptTranscripts(['Tell me about the sea.']);
    await caller.say('Tell me about the sea.');
    await feed.waitFor((e) => e.event_type === 'agent_speaking', 30_000, 'the reply');

    const worker = stack.pid('agent') as number;
    const termAt = Date.now();
    const restarted = stack.restart('agent');
    // A call opened while the worker drains is not taken by it.
    const late = await joinCall({ waitForAgent: false });

    const finished = await feed.waitFor((e) => e.event_type === 'agent_finished', 60_000);
    expect(finished).toMatchObject({ text: reply, interrupted: false });
    expect(caller.agentSpeechFrames.filter((time) => time > termAt).length).toBeGreaterThan(100);
    expect(isRunning(worker)).toBe(true);
    expect(ofType(late.feed.events, 'session_started')).toHaveLength(0);

    // The worker exits once its call is over, well before its drain timeout.
    const hungUpAt = Date.now();
    await caller.leave();
    await waitUntil(() => !isRunning(worker), DRAIN_TIMEOUT_S * 1000, 'the worker to exit');
    const exitedAt = Date.now();
    expect(exitedAt - hungUpAt).toBeLessThan(15_000);
    await restarted;

    const ended = await feed.waitFor((e) => e.event_type === 'session_ended', 30_000);
    expect(ended).toMatchObject({ reason: 'participant_disconnected' });
    expect(ofType(feed.events, 'error')).toHaveLength(0);
    expect(await replacements(caller.session.sessionId)).toHaveLength(0);

    // The call opened during the drain gets its agent from the new worker.
    const started = await late.feed.waitFor(
      (e) => e.event_type === 'session_started',
      3 * JOIN_TIMEOUT_S * 1000,
      'an agent for the call opened during the drain',
    );
    expect(at(started)).toBeGreaterThan(exitedAt);
    expect(ofType(late.feed.events, 'error')).toMatchObject([
      { error_code: 'agent_missing', recoverable: true },
    ]);
    await late.feed.waitFor(isIdle, 30_000);
    const turn = await speakTurn(late.caller, late.feed, 'Hello?');
    expect(turn).toMatchObject({ text: reply, interrupted: false });
    expect(agentsInCall(late.caller)).toBe(1);
    console.info(
      `drain: worker exited ${exitedAt - hungUpAt} ms after the call ended (${exitedAt - termAt} ms after SIGTERM); ` +
        `the call opened meanwhile got its agent ${at(started) - exitedAt} ms after the exit`,
    );
  }, 240_000);

  it('rides out a LiveKit restart: /health degraded then ok, new sessions get an agent, a cut-off call resumes with its conversation', async () => {
    const before = await joinCall();
    stack.openai.setReply((messages) => {
      const said = messages.map((m) => (typeof m.content === 'string' ? m.content : ''));
      if (!said.at(-1)?.includes('What was the code word')) return 'Noted.';
      return said.includes('The code word is heron.') ? 'It was heron.' : 'I do not know.';
    });
    await speakTurn(before.caller, before.feed, 'The code word is heron.');

    let whileDown: HealthResponse | undefined;
    const restartAt = Date.now();
    await stack.restart('livekit', {
      whileDown: async () => {
        whileDown = await health();
      },
    });
    expect(whileDown).toMatchObject({ status: 'degraded', livekit: { reachable: false } });
    // /health keeps an unreachable answer 1 s (so a dead LiveKit is not probed per request).
    const recovered = Date.now();
    let healthAfter: HealthResponse = await health();
    while (healthAfter.status !== 'ok' && Date.now() - recovered < 3000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      healthAfter = await health();
    }
    expect(healthAfter).toMatchObject({ status: 'ok', livekit: { reachable: true } });

    const upAt = Date.now();
    const after = await joinCall();
    const agentAt = Date.now();
    expect(await speakTurn(after.caller, after.feed, 'Are you there?')).toMatchObject({
      text: 'Noted.',
      interrupted: false,
    });

    // The call LiveKit lost is cut off, not ended: its agent says so, and the session stays open.
    const cut = await before.feed.waitFor((e) => e.event_type === 'error', 90_000, 'the cut-off');
    expect(cut).toMatchObject({ error_code: 'agent_disconnected', recoverable: true });
    const { sessionId, sessionToken, eventsUrl } = before.caller.session;
    const auth = { authorization: `Bearer ${sessionToken}` };
    const session = await (
      await fetch(`${stack.apiUrl}/api/sessions/${sessionId}`, { headers: auth })
    ).json();
    expect(session).toMatchObject({ live: false, endedAt: null, state: 'idle' });

    // The caller comes back (a new participant token, as the page's rejoin does): a new agent
    // joins and answers in the context of what was said before the restart.
    await before.caller.leave().catch(() => {});
    const grant = await fetch(`${stack.apiUrl}/api/sessions/${sessionId}/token`, {
      method: 'POST',
      headers: auth,
    });
    expect(grant.status).toBe(200);
    const rejoined = await ScriptedCaller.connect({
      ...((await grant.json()) as ParticipantTokenResponse),
      sessionToken,
      eventsUrl,
    });
    callers.push(rejoined);
    const restarted = await before.feed.waitFor(
      (e) => e.event_type === 'session_started' && e.seq > cut.seq,
      3 * JOIN_TIMEOUT_S * 1000,
      'an agent for the rejoined call',
    );
    await before.feed.waitFor((e) => e.seq > restarted.seq && isIdle(e), 30_000, 'the agent idle');
    const answer = await speakTurn(rejoined, before.feed, 'What was the code word?');
    expect(answer).toMatchObject({ text: 'It was heron.', interrupted: false });
    expect(ofType(before.feed.events, 'session_ended')).toHaveLength(0);
    console.info(
      `LiveKit restart took ${upAt - restartAt} ms; a new session had its agent ${agentAt - upAt} ms later; ` +
        `the cut-off call was reported ${at(cut) - upAt} ms after the restart and had a new agent ` +
        `${at(restarted) - at(cut)} ms after that`,
    );
  }, 300_000);
});
