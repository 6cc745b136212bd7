/**
 * `GET /metrics`: what a Prometheus scrape reads after a session's events went through the real
 * app and store (LiveKit faked): session gauges, turns, errors by code, turn latency by stage,
 * event lag, SSE subscribers, request counts with error codes, and the API-key guard.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionEventBody } from '../common/protocol.js';
import {
  buildTestApp,
  createSession,
  errorShape,
  openTestStore,
  postJson,
  type TestApp,
} from '../test/support/test-app.js';
import type { SessionStore } from './store/types.js';

let store: SessionStore;
let removeStore: () => Promise<void>;
beforeEach(async () => {
  ({ store, remove: removeStore } = await openTestStore());
});
afterEach(() => removeStore());

/** The samples of an exposition, by series (`name{labels}`, labels as prom-client prints them). */
async function scrape(app: TestApp, headers: Record<string, string> = {}) {
  const response = await app.request('/metrics', { headers });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  const text = await response.text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match?.[1] && match[2]) samples.set(match[1], Number(match[2]));
  }
  return { text, samples };
}

const now = () => new Date().toISOString();
const event = (body: SessionEventBody) => ({ ...body, timestamp: now() });

async function startSession(app: TestApp, ingestTokenOfLast: () => string) {
  const session = await createSession(app);
  const ingestToken = ingestTokenOfLast();
  const report = (events: unknown[]) =>
    app.request(
      `/internal/sessions/${session.sessionId}/events`,
      postJson(JSON.stringify({ events }), { authorization: `Bearer ${ingestToken}` }),
    );
  return { session, report };
}

describe('GET /metrics', () => {
  it("counts a call's events: sessions, turns, interruptions, errors, latency by stage, lag", async () => {
    const { app, livekit } = buildTestApp({ store });
    const ingestToken = () => livekit.createdRooms.at(-1)?.metadata.ingestToken ?? '';
    const { session, report } = await startSession(app, ingestToken);
    await createSession(app);
    const reported = await report([
      event({ event_type: 'session_started', room_name: session.roomName }),
      event({
        event_type: 'conversation_item',
        role: 'user',
        text: 'What time is it?',
        source: 'voice',
        item_id: 'u1',
      }),
      event({
        event_type: 'metrics',
        turn_id: 't1',
        end_of_utterance_ms: 500,
        stt_ms: 150,
        llm_ttft_ms: 300,
        tts_ttfb_ms: null,
        voice_to_voice_ms: 1200,
      }),
      event({ event_type: 'agent_finished', turn_id: 't1', interrupted: true, text: 'It is' }),
      event({
        event_type: 'conversation_item',
        role: 'assistant',
        text: 'It is',
        source: 'voice',
        item_id: 'a1',
      }),
      event({
        event_type: 'error',
        error_message: 'Speech synthesis failed.',
        error_code: 'tts_unavailable',
        recoverable: true,
      }),
      event({
        event_type: 'tool_result',
        call_id: 'c1',
        name: 'get_weather',
        ok: true,
        duration_ms: 120,
      }),
    ]);
    expect(await reported.json()).toStrictEqual({ appended: 7, last_seq: 7 });

    const { text, samples } = await scrape(app);
    expect(samples.get('voice_agent_sessions_open')).toBe(2);
    expect(samples.get('voice_agent_sessions_live')).toBe(1);
    expect(samples.get('voice_agent_sessions_created_total')).toBe(2);
    expect(samples.get('voice_agent_events_total{type="conversation_item"}')).toBe(2);
    expect(samples.get('voice_agent_turns_total{source="voice"}')).toBe(1);
    expect(samples.get('voice_agent_interruptions_total')).toBe(1);
    expect(
      samples.get('voice_agent_session_errors_total{code="tts_unavailable",recoverable="true"}'),
    ).toBe(1);
    expect(samples.get('voice_agent_turn_latency_seconds_sum{stage="stt"}')).toBe(0.15);
    expect(samples.get('voice_agent_turn_latency_seconds_bucket{le="0.2",stage="stt"}')).toBe(1);
    expect(samples.get('voice_agent_turn_latency_seconds_count{stage="voice_to_voice"}')).toBe(1);
    // A stage the agent could not measure (null) is not observed as a zero.
    expect(samples.has('voice_agent_turn_latency_seconds_count{stage="tts_ttfb"}')).toBe(false);
    expect(samples.get('voice_agent_tool_call_seconds_count{ok="true"}')).toBe(1);
    expect(samples.get('voice_agent_tool_call_seconds_bucket{le="0.2",ok="true"}')).toBe(1);
    expect(samples.get('voice_agent_event_lag_seconds_count')).toBe(7);
    expect(samples.get('voice_agent_event_lag_seconds_bucket{le="+Inf"}')).toBe(7);
    expect(samples.get('process_resident_memory_bytes')).toBeGreaterThan(0);
    // Nothing identifies a session or repeats what was said.
    expect(text).not.toContain(session.sessionId);
    expect(text).not.toContain('What time');

    await report([event({ event_type: 'session_ended', reason: 'participant_disconnected' })]);
    const after = (await scrape(app)).samples;
    expect(after.get('voice_agent_sessions_live')).toBe(0);
    expect(after.get('voice_agent_sessions_open')).toBe(1);
    expect(after.get('voice_agent_sessions_ended_total{reason="participant_disconnected"}')).toBe(
      1,
    );
  });

  it('labels error codes and end reasons it does not know as `other`: an ingest cannot add series', async () => {
    const { app, livekit } = buildTestApp({ store });
    const ingestToken = () => livekit.createdRooms.at(-1)?.metadata.ingestToken ?? '';
    const { report } = await startSession(app, ingestToken);
    const junk = Array.from({ length: 1000 }, (_, i) =>
      event({
        event_type: 'error',
        error_message: 'junk',
        error_code: `junk_${i}`,
        recoverable: true,
      }),
    );
    for (const batch of [junk.slice(0, 500), junk.slice(500)]) {
      expect((await report(batch)).status).toBe(200);
    }
    await report([event({ event_type: 'session_ended', reason: 'made up by the agent' })]);

    const { samples } = await scrape(app);
    const errorSeries = [...samples.keys()].filter((key) =>
      key.startsWith('voice_agent_session_errors_total{'),
    );
    expect(errorSeries).toStrictEqual([
      'voice_agent_session_errors_total{code="other",recoverable="true"}',
    ]);
    expect(samples.get(errorSeries[0] ?? '')).toBe(1000);
    const endSeries = [...samples.keys()].filter((key) =>
      key.startsWith('voice_agent_sessions_ended_total{'),
    );
    expect(endSeries).toStrictEqual(['voice_agent_sessions_ended_total{reason="other"}']);
  });

  it('counts open event streams, and a stream the client left is no longer counted', async () => {
    const { app } = buildTestApp({ store });
    const session = await createSession(app);
    const open = () =>
      app.request(`/api/sessions/${session.sessionId}/events`, {
        headers: { authorization: `Bearer ${session.sessionToken}` },
      });
    const first = (await open()).body?.getReader();
    const second = (await open()).body?.getReader();
    await first?.read();
    await second?.read();
    expect((await scrape(app)).samples.get('voice_agent_sse_subscribers')).toBe(2);

    await first?.cancel();
    expect((await scrape(app)).samples.get('voice_agent_sse_subscribers')).toBe(1);
    await second?.cancel();
    expect((await scrape(app)).samples.get('voice_agent_sse_subscribers')).toBe(0);
  });

  it('counts requests by route and status, failed ones with their error code', async () => {
    const { app } = buildTestApp({ store });
    await createSession(app);
    await app.request('/api/sessions/unknown/events');
    await app.request('/api/sessions', postJson('{"voice": "yes"}'));

    const { samples } = await scrape(app);
    const series = [...samples.keys()].filter((key) => key.startsWith('http_requests_total{'));
    expect(series).toContain(
      'http_requests_total{method="POST",route="/api/sessions",status="201",ok="true",error_code=""}',
    );
    expect(series).toContain(
      'http_requests_total{method="POST",route="/api/sessions",status="400",ok="false",error_code="invalid_request"}',
    );
    expect(series.find((key) => key.includes('status="401"'))).toMatch(
      /error_code="(session_token_required|invalid_session_token)"/,
    );
  });

  it('needs an API key when API_KEYS is set', async () => {
    const { app } = buildTestApp({ store, env: { API_KEYS: 'scrape-key' } });
    const refused = await app.request('/metrics');
    expect(refused.status).toBe(401);
    expect(await refused.json()).toStrictEqual(errorShape('api_key_required', expect.any(String)));
    const wrong = await app.request('/metrics', { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    await scrape(app, { authorization: 'Bearer scrape-key' });
  });
});
