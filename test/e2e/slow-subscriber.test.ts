/**
 * A subscriber that stops reading must not hold up anyone else: over real TCP, a client that never
 * reads its feed is dropped once its queue passes the bound, while another subscriber of the same
 * session receives every event.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionTokens } from '../../api/session-tokens.js';
import { DEV_LIVEKIT_SECRET } from '../../common/config.js';
import type { CreateSessionResponse, TimedEventBody } from '../../common/protocol.js';
import { startTestStack, type TestStack } from '../support/harness.js';
import { FeedSubscriber } from '../support/sse.js';

/** Enough bytes to fill the stalled socket's kernel buffers several times over. */
const EVENTS = 40_000;
const BATCH = 500;

describe('a stalled SSE subscriber', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('is dropped at its bound while another subscriber gets every event', async () => {
    // A text session: no agent joins, so the log holds this test's events and nothing between them.
    const created = await fetch(`${stack.apiUrl}/api/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"voice":false}',
    });
    const session = (await created.json()) as CreateSessionResponse;
    const { token: ingestToken } = await createSessionTokens(DEV_LIVEKIT_SECRET, 'ingest').issue(
      session.sessionId,
      600,
    );

    // The stalled one: sends its request, then never reads a byte.
    const stalled = connect(stack.ports.api, '127.0.0.1');
    const stalledClosed = new Promise<void>((resolve) => stalled.once('close', () => resolve()));
    stalled.write(
      `GET /api/sessions/${session.sessionId}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
        `Authorization: Bearer ${session.sessionToken}\r\n\r\n`,
    );
    stalled.pause();
    const reader = await FeedSubscriber.open(session.eventsUrl, session.sessionToken);

    const padding = 'x'.repeat(120);
    for (let start = 0; start < EVENTS; start += BATCH) {
      const events: TimedEventBody[] = Array.from({ length: BATCH }, (_, i) => ({
        event_type: 'agent_speaking',
        text: `${start + i} ${padding}`,
        delta: ` ${start + i} ${padding}`,
        turn_id: 'load',
        timestamp: new Date().toISOString(),
      }));
      const response = await fetch(
        `${stack.apiUrl}/internal/sessions/${session.sessionId}/events`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${ingestToken}` },
          body: JSON.stringify({ events }),
        },
      );
      expect(response.status).toBe(200);
    }

    const last = await reader.waitFor(
      (e) => e.event_type === 'agent_speaking' && e.text.startsWith(`${EVENTS - 1} `),
      60_000,
    );
    const loadEvents = reader.events.filter((e) => e.event_type === 'agent_speaking');
    expect(loadEvents).toHaveLength(EVENTS);
    expect(last.seq - (loadEvents[0]?.seq ?? 0)).toBe(EVENTS - 1);

    const apiLog = readFileSync(join(stack.logDir, 'api.log'), 'utf8');
    expect(apiLog).toContain('dropped a slow subscriber');
    // Dropping ends the response; the socket closes once the server's side is flushed or destroyed.
    stalled.resume();
    await stalledClosed;
    await reader.close();
  });
});
