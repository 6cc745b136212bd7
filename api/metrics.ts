/**
 * Prometheus metrics (prom-client), served at `GET /metrics`: what the sessions do (open and live
 * sessions, events, turns, interruptions, errors by code, turn latency by stage, how late events
 * reach the log), the SSE feed (subscribers, drops), the API's requests (@hono/prometheus, with the
 * error code of failed ones) and Node's process metrics. Each app has its own registry.
 *
 * Session figures are taken where events are appended, so every source counts once: the agent's
 * reports, text chat and the API's own events (call recovery, DELETE, expiry). With several API
 * replicas, sum the counters across them; the session gauges come from the shared store, so take
 * any one replica's value.
 *
 * Label values come from closed sets (common/protocol.ts): error codes and end reasons that an
 * agent reports are free strings, and each new value would be a new series kept for ever.
 */
import { prometheus } from '@hono/prometheus';
import type { Context } from 'hono';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  API_ERROR_CODES,
  knownOrOther,
  SESSION_END_REASONS,
  SESSION_ERROR_CODES,
  type SessionEvent,
} from '../common/protocol.js';
import type { SessionStore } from './store/types.js';

declare module 'hono' {
  interface ContextVariableMap {
    /** The `error.code` of the JSON error this request was answered with. */
    errorCode?: string;
  }
}

/** The turn latencies of a `metrics` event, by stage label. */
const STAGES = {
  end_of_utterance: 'end_of_utterance_ms',
  stt: 'stt_ms',
  llm_ttft: 'llm_ttft_ms',
  tts_ttfb: 'tts_ttfb_ms',
  voice_to_voice: 'voice_to_voice_ms',
} as const;

const TURN_BUCKETS_S = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10];
const LAG_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface MetricsOptions {
  store: SessionStore;
  /** Sessions idle for longer have expired and are not counted as open. */
  sessionIdleTimeoutS: number;
}

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics({ store, sessionIdleTimeoutS }: MetricsOptions) {
  const registry = new Registry();
  const registers = [registry];
  const activeSince = () => new Date(Date.now() - sessionIdleTimeoutS * 1000).toISOString();

  new Gauge({
    name: 'voice_agent_sessions_open',
    help: 'Sessions not ended and not expired',
    registers,
    async collect() {
      this.set((await store.countSessions(activeSince())).open);
    },
  });
  new Gauge({
    name: 'voice_agent_sessions_live',
    help: 'Sessions with an agent in a call',
    registers,
    async collect() {
      this.set((await store.countSessions(activeSince())).live);
    },
  });
  const sessionsCreated = new Counter({
    name: 'voice_agent_sessions_created_total',
    help: 'Sessions created',
    registers,
  });
  const sessionsEnded = new Counter({
    name: 'voice_agent_sessions_ended_total',
    help: 'Sessions ended, by reason',
    labelNames: ['reason'],
    registers,
  });
  const events = new Counter({
    name: 'voice_agent_events_total',
    help: 'Events appended to session logs, by type',
    labelNames: ['type'],
    registers,
  });
  const turns = new Counter({
    name: 'voice_agent_turns_total',
    help: 'Replies of the agent, by how the user spoke (voice) or typed (text)',
    labelNames: ['source'],
    registers,
  });
  const interruptions = new Counter({
    name: 'voice_agent_interruptions_total',
    help: 'Spoken replies the user interrupted',
    registers,
  });
  const sessionErrors = new Counter({
    name: 'voice_agent_session_errors_total',
    help: 'error events in session logs, by code and whether the session went on',
    labelNames: ['code', 'recoverable'],
    registers,
  });
  const toolCalls = new Histogram({
    name: 'voice_agent_tool_call_seconds',
    help: 'Tool calls (tool_result events), by whether they gave a result, and how long they took',
    labelNames: ['ok'],
    buckets: TURN_BUCKETS_S,
    registers,
  });
  const turnLatency = new Histogram({
    name: 'voice_agent_turn_latency_seconds',
    help: "Latency of a spoken turn's stages, from the agent's metrics events",
    labelNames: ['stage'],
    buckets: TURN_BUCKETS_S,
    registers,
  });
  const eventLag = new Histogram({
    name: 'voice_agent_event_lag_seconds',
    help: 'From when an event happened (its timestamp) to its append to the log',
    buckets: LAG_BUCKETS_S,
    registers,
  });
  const sseSubscribers = new Gauge({
    name: 'voice_agent_sse_subscribers',
    help: 'Open session event streams',
    registers,
  });
  const sseDropped = new Counter({
    name: 'voice_agent_sse_dropped_subscribers_total',
    help: 'Event streams ended because the client fell too far behind',
    registers,
  });
  const http = prometheus({
    registry,
    collectDefaultMetrics: true,
    metricOptions: {
      requestsTotal: {
        customLabels: {
          error_code: (c: Context) => {
            const code = c.get('errorCode');
            return code === undefined ? '' : knownOrOther(API_ERROR_CODES, code);
          },
        },
      },
    },
  });

  function observeEvent(event: SessionEvent, now: number) {
    events.inc({ type: event.event_type });
    eventLag.observe(Math.max(0, now - Date.parse(event.timestamp)) / 1000);
    switch (event.event_type) {
      case 'conversation_item':
        if (event.role === 'assistant') turns.inc({ source: event.source });
        break;
      case 'agent_finished':
        if (event.interrupted) interruptions.inc();
        break;
      case 'error':
        sessionErrors.inc({
          code: knownOrOther(SESSION_ERROR_CODES, event.error_code),
          recoverable: String(event.recoverable),
        });
        break;
      case 'tool_result':
        toolCalls.observe({ ok: String(event.ok) }, event.duration_ms / 1000);
        break;
      case 'session_ended':
        sessionsEnded.inc({ reason: knownOrOther(SESSION_END_REASONS, event.reason) });
        break;
      case 'metrics':
        for (const [stage, field] of Object.entries(STAGES)) {
          const ms = event[field];
          if (ms !== null) turnLatency.observe({ stage }, ms / 1000);
        }
        break;
    }
  }

  return {
    registry,
    /** Middleware timing and counting every request. */
    requests: http.registerMetrics,
    sse: {
      opened: () => sseSubscribers.inc(),
      closed: () => sseSubscribers.dec(),
      dropped: () => sseDropped.inc(),
    },
    /** The store, counting what is created and appended through it. */
    observe(observed: SessionStore): SessionStore {
      const counted: SessionStore = Object.create(observed);
      counted.createSession = async (session, limit) => {
        const record = await observed.createSession(session, limit);
        sessionsCreated.inc();
        return record;
      };
      counted.appendEvents = async (sessionId, bodies) => {
        const appended = await observed.appendEvents(sessionId, bodies);
        const now = Date.now();
        for (const event of appended) observeEvent(event, now);
        return appended;
      };
      return counted;
    },
  };
}
