/**
 * `POST /api/livekit/webhook` and the call recovery behind it: only LiveKit's signed notices get
 * in; an agent lost from a call its caller is still in is replaced (an `error` in the log, a new
 * dispatch with a fresh ingest token); a call that ended is left alone; a caller left without an
 * agent gets one, a few times at most. Real app and store, LiveKit faked, timers faked.
 */
import { createHash } from 'node:crypto';
import { AccessToken } from 'livekit-server-sdk';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LIVEKIT_WEBHOOK_PATH } from '../../common/protocol.js';
import {
  buildTestApp,
  createSession,
  errorShape,
  ingestTokens,
  openTestStore,
  SECRET,
  type TestApp,
} from '../../test/support/test-app.js';

const { store, remove: removeStore } = await openTestStore();
afterAll(removeStore);

const API_KEY = 'test-key';
const JOIN_TIMEOUT_S = 5;

interface Notice {
  event: string;
  room: { name: string };
  participant: { identity: string; kind: 'AGENT' | 'STANDARD' };
}

async function signature(body: string, { secret = SECRET, ttlSeconds = 600 } = {}) {
  const token = new AccessToken(API_KEY, secret, { ttl: ttlSeconds });
  token.sha256 = createHash('sha256').update(body).digest('base64');
  return token.toJwt();
}

const notify = (app: TestApp, body: string, authorization?: string) =>
  app.request(LIVEKIT_WEBHOOK_PATH, {
    method: 'POST',
    headers: {
      'content-type': 'application/webhook+json',
      ...(authorization !== undefined && { authorization }),
    },
    body,
  });

const sendSigned = async (app: TestApp, notice: Notice) => {
  const body = JSON.stringify({ id: 'EV_test', createdAt: '1', ...notice });
  return notify(app, body, await signature(body));
};

/** A session whose caller is in its room: the room's participants are the test's to set. */
async function callInProgress() {
  const { app, livekit } = buildTestApp({
    store,
    env: { AGENT_JOIN_TIMEOUT_S: String(JOIN_TIMEOUT_S) },
  });
  const session = await createSession(app);
  const caller = { identity: session.participantIdentity, agent: false };
  const agent = { identity: 'agent-AJ_1', agent: true };
  livekit.participants.set(session.roomName, [caller, agent]);
  const notice = (event: string, who: typeof caller) => ({
    event,
    room: { name: session.roomName },
    participant: { identity: who.identity, kind: who.agent ? 'AGENT' : 'STANDARD' } as const,
  });
  return { app, livekit, session, caller, agent, notice };
}

const errors = async (sessionId: string) =>
  (await store.readEvents(sessionId, 0, 100)).filter((event) => event.event_type === 'error');

describe('POST /api/livekit/webhook', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('refuses a notice that is unsigned, forged, expired or altered, with the JSON error', async () => {
    const { app, livekit, agent, notice } = await callInProgress();
    const body = JSON.stringify(notice('participant_left', agent));
    const refusals = [
      await notify(app, body),
      await notify(app, body, await signature(body, { secret: `${SECRET}-not-it` })),
      await notify(app, body, await signature(body, { ttlSeconds: -120 })),
      await notify(
        app,
        body.replace('participant_left', 'participant_joined'),
        await signature(body),
      ),
      await notify(app, body, 'not-a-jwt'),
    ];

    for (const response of refusals) {
      expect(response.status).toBe(401);
      expect(await response.json()).toStrictEqual(
        errorShape('invalid_webhook', 'The webhook signature is missing or not valid.'),
      );
    }
    await vi.advanceTimersByTimeAsync(60_000);
    expect(livekit.dispatches).toHaveLength(0);
  });

  it('replaces an agent lost from a call its caller is still in, with the session history token', async () => {
    const { app, livekit, session, caller, agent, notice } = await callInProgress();
    const timestamp = new Date().toISOString();
    await store.appendEvents(session.sessionId, [
      { event_type: 'session_started', room_name: session.roomName, timestamp },
      { event_type: 'state_change', new_state: 'agentSpeaking', previous_state: 'idle', timestamp },
    ]);
    livekit.participants.set(session.roomName, [caller]);
    // LiveKit still lists the lost agent's job as it was when assigned.
    livekit.agentJobs.set(session.roomName, [{ identity: agent.identity, assignedAt: Date.now() }]);
    const response = await sendSigned(app, notice('participant_left', agent));

    expect(response.status).toBe(200);
    expect(await response.json()).toStrictEqual({ received: true });
    await vi.advanceTimersByTimeAsync(3000);
    expect(livekit.dispatches.map((d) => d.roomName)).toStrictEqual([session.roomName]);
    const metadata = livekit.dispatches[0]?.metadata;
    expect(metadata?.sessionId).toBe(session.sessionId);
    expect(await ingestTokens.verify(metadata?.ingestToken ?? '')).toBe(session.sessionId);
    expect((await store.readEvents(session.sessionId, 2, 100)).slice(0, 2)).toMatchObject([
      { event_type: 'error', error_code: 'agent_lost', recoverable: true },
      { event_type: 'state_change', new_state: 'idle', previous_state: 'agentSpeaking' },
    ]);
    // No agent in the call until the new one starts: text chat is answered by the API meanwhile.
    expect(await store.getSession(session.sessionId)).toMatchObject({ live: false, state: 'idle' });

    // The new agent joins: nothing more is sent.
    livekit.participants.set(session.roomName, [caller, { identity: 'agent-AJ_2', agent: true }]);
    await vi.advanceTimersByTimeAsync(JOIN_TIMEOUT_S * 1000 * 3);
    expect(livekit.dispatches).toHaveLength(1);
  });

  it('leaves a call alone that ended, or that the caller left, when its agent goes', async () => {
    const ended = await callInProgress();
    const deleted = await ended.app.request(`/api/sessions/${ended.session.sessionId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ended.session.sessionToken}` },
    });
    expect(deleted.status).toBe(200);
    ended.livekit.participants.set(ended.session.roomName, [ended.caller]);
    await sendSigned(ended.app, ended.notice('participant_left', ended.agent));

    const hungUp = await callInProgress();
    hungUp.livekit.participants.set(hungUp.session.roomName, []);
    await sendSigned(hungUp.app, hungUp.notice('participant_left', hungUp.caller));
    await sendSigned(hungUp.app, hungUp.notice('participant_left', hungUp.agent));

    await vi.advanceTimersByTimeAsync(60_000);
    for (const { livekit, session } of [ended, hungUp]) {
      expect(livekit.dispatches).toHaveLength(0);
      expect(await errors(session.sessionId)).toHaveLength(0);
    }
  });

  it('sends an agent to a caller left without one, and gives up after three tries', async () => {
    const { app, livekit, session, caller, notice } = await callInProgress();
    livekit.participants.set(session.roomName, [caller]);
    await sendSigned(app, notice('participant_joined', caller));

    await vi.advanceTimersByTimeAsync(JOIN_TIMEOUT_S * 1000 - 100);
    expect(livekit.dispatches).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(livekit.dispatches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(JOIN_TIMEOUT_S * 1000 * 10);

    expect(livekit.dispatches).toHaveLength(3);
    expect(await errors(session.sessionId)).toMatchObject([
      { error_code: 'agent_missing', recoverable: true },
      { error_code: 'agent_unavailable', recoverable: false },
    ]);
  });

  it('sends no second agent while the first is still starting, and one once it must have died', async () => {
    const { app, livekit, session, caller, notice } = await callInProgress();
    livekit.participants.set(session.roomName, [caller]);
    livekit.agentJobs.set(session.roomName, [{ identity: 'agent-AJ_1', assignedAt: Date.now() }]);
    await sendSigned(app, notice('participant_joined', caller));

    await vi.advanceTimersByTimeAsync(JOIN_TIMEOUT_S * 1000 * 2 - 100);
    expect(livekit.dispatches).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(JOIN_TIMEOUT_S * 1000);
    expect(livekit.dispatches).toHaveLength(1);
    expect(await errors(session.sessionId)).toMatchObject([{ error_code: 'agent_missing' }]);
  });

  it('sends no agent to a call whose job refused to run (a provider not configured)', async () => {
    const { app, livekit, session, caller, notice } = await callInProgress();
    livekit.participants.set(session.roomName, [caller]);
    await store.appendEvents(session.sessionId, [
      {
        event_type: 'error',
        error_code: 'provider_not_configured',
        error_message: 'Provider configuration missing: set OPENAI_API_KEY.',
        recoverable: false,
        timestamp: new Date().toISOString(),
      },
    ]);
    await sendSigned(app, notice('participant_joined', caller));
    await vi.advanceTimersByTimeAsync(JOIN_TIMEOUT_S * 1000 * 5);

    expect(livekit.dispatches).toHaveLength(0);
    expect(await errors(session.sessionId)).toHaveLength(1);
  });

  it('sends no agent to a caller whose agent arrives in time', async () => {
    const { app, livekit, session, caller, notice } = await callInProgress();
    await sendSigned(app, notice('participant_joined', caller));
    await vi.advanceTimersByTimeAsync(JOIN_TIMEOUT_S * 1000 * 3);

    expect(livekit.dispatches).toHaveLength(0);
    expect(await errors(session.sessionId)).toHaveLength(0);
  });
});
