/**
 * The retention sweep on a real store: what it deletes at which age, the count it logs, and the
 * timer that repeats it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { newSession } from '../../test/support/sessions.js';
import { startRetentionSweep, sweepEndedSessions } from './retention.js';
import { openSqliteStore } from './sqlite.js';
import type { SessionStore } from './types.js';

const DAY_MS = 86_400_000;
const START = Date.parse('2030-01-01T00:00:00.000Z');

let dataDir: string;
let store: SessionStore;
let now: number;
let lines: Record<string, unknown>[];
const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'retention-'));
  now = START;
  lines = [];
  store = await openSqliteStore({ dataDir, clock: () => now });
});
afterEach(async () => {
  vi.useRealTimers();
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function openAt(sessionId: string, at: number, ended: boolean) {
  now = at;
  await store.createSession(newSession(sessionId, { createdAt: new Date(at).toISOString() }));
  const timestamp = new Date(at).toISOString();
  await store.appendEvents(sessionId, [
    { event_type: 'user_speaking', timestamp },
    ...(ended ? [{ event_type: 'session_ended', reason: 'bye', timestamp } as const] : []),
  ]);
}

const options = { log, retentionDays: 30, idleTimeoutS: 3600, clock: () => now };

describe('sweepEndedSessions', () => {
  it('deletes sessions ended before the retention and those expired before it, and logs how many', async () => {
    await openAt('ended-31-days-ago', START, true);
    await openAt('ended-29-days-ago', START + 2 * DAY_MS, true);
    // Idle 30 days and 2 hours: expired (1 hour) 30 days and 1 hour ago.
    await openAt('expired-30-days-ago', START + 1 * DAY_MS - 2 * 3_600_000, false);
    // Idle 30 days exactly: expired only 29 days and 23 hours ago.
    await openAt('idle-30-days', START + 1 * DAY_MS, false);
    now = START + 31 * DAY_MS;

    expect(await sweepEndedSessions({ store, ...options })).toBe(2);
    expect(await store.getSession('ended-31-days-ago')).toBeNull();
    expect(await store.getSession('expired-30-days-ago')).toBeNull();
    expect(await store.getSession('ended-29-days-ago')).not.toBeNull();
    expect(await store.getSession('idle-30-days')).not.toBeNull();
    expect(lines).toContainEqual(
      expect.objectContaining({
        deleted: 2,
        retentionDays: 30,
        msg: 'deleted sessions past retention',
      }),
    );
  });
});

describe('startRetentionSweep', () => {
  it('sweeps at once, then every interval, until stopped', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    await openAt('old', START, true);
    now = START + 31 * DAY_MS;

    const stop = startRetentionSweep({ store, ...options, intervalMs: 1000 });
    await vi.waitFor(() => expect(lines).toHaveLength(1));
    expect(lines[0]).toMatchObject({ deleted: 1 });

    await openAt('old-too', START, true);
    now = START + 31 * DAY_MS;
    await vi.advanceTimersByTimeAsync(1000);
    await vi.waitFor(() => expect(lines).toHaveLength(2));
    expect(lines[1]).toMatchObject({ deleted: 1 });

    stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(lines).toHaveLength(2);
  });

  it('keeps everything, with no sweep, when the retention is 0 days', async () => {
    await openAt('old', START, true);
    now = START + 3650 * DAY_MS;

    startRetentionSweep({ store, ...options, retentionDays: 0 })();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await store.getSession('old')).not.toBeNull();
    expect(lines).toStrictEqual([]);
  });

  it('logs a failed sweep and keeps sweeping', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const failing = { ...store, deleteEndedBefore: () => Promise.reject(new Error('disk full')) };

    const stop = startRetentionSweep({ store: failing, ...options, intervalMs: 1000 });
    await vi.advanceTimersByTimeAsync(1000);
    stop();
    await vi.waitFor(() => expect(lines).toHaveLength(2));
    expect(lines[0]).toMatchObject({ level: 40, msg: 'retention sweep failed' });
  });
});
