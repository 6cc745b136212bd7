/**
 * Retention: ended sessions and their event logs are deleted SESSION_RETENTION_DAYS after they
 * ended, by a sweep at start and then every hour.
 */
import type { Logger } from 'pino';
import type { SessionStore } from './types.js';

export interface RetentionOptions {
  store: SessionStore;
  log: Logger;
  /** 0: kept for ever, no sweep. */
  retentionDays: number;
  /** A session idle this long has expired (SESSION_IDLE_TIMEOUT_S), which ends it. */
  idleTimeoutS: number;
  intervalMs?: number;
  /** ms since the epoch; tests set it. */
  clock?: () => number;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * Deletes what is past retention once: sessions that ended more than `retentionDays` ago, and
 * those never ended that expired that long ago (expiry ends a session only when someone next
 * uses it, so one left alone never gets its `session_ended`).
 */
export async function sweepEndedSessions(
  options: Pick<RetentionOptions, 'store' | 'log' | 'retentionDays' | 'idleTimeoutS' | 'clock'>,
): Promise<number> {
  const { store, log, retentionDays, idleTimeoutS, clock = () => Date.now() } = options;
  const endedBefore = clock() - retentionDays * DAY_MS;
  const deleted = await store.deleteEndedBefore(
    new Date(endedBefore).toISOString(),
    new Date(endedBefore - idleTimeoutS * 1000).toISOString(),
  );
  log.info({ deleted, retentionDays }, 'deleted sessions past retention');
  return deleted;
}

/** Sweeps now and every `intervalMs` (an hour); returns the stop function. Keeps no process up. */
export function startRetentionSweep({ intervalMs = HOUR_MS, ...options }: RetentionOptions) {
  if (options.retentionDays === 0) return () => {};
  const sweep = () => {
    sweepEndedSessions(options).catch((err: unknown) =>
      options.log.warn({ err }, 'retention sweep failed'),
    );
  };
  sweep();
  const timer = setInterval(sweep, intervalMs).unref();
  return () => clearInterval(timer);
}
