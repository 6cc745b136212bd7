/**
 * The cap on open sessions per client (MAX_OPEN_SESSIONS_PER_CLIENT): a client (an API key, or an
 * address without one) may hold that many sessions that have not ended and not expired. The store
 * counts them, so the cap holds across API restarts. Two sessions opened at the same instant may
 * both pass at the cap; it bounds a flood, not an exact number.
 */
import type { AppDeps } from './app.js';
import { apiError } from './errors.js';

export async function checkOpenSessionQuota(
  { config, store }: Pick<AppDeps, 'config' | 'store'>,
  owner: string,
): Promise<void> {
  const cap = config.MAX_OPEN_SESSIONS_PER_CLIENT;
  if (cap === 0) return;
  const activeSince = new Date(Date.now() - config.SESSION_IDLE_TIMEOUT_S * 1000).toISOString();
  if ((await store.countOpenSessions(owner, activeSince)) < cap) return;
  throw apiError(
    429,
    'too_many_open_sessions',
    `This client has ${cap} open sessions; end one (DELETE /api/sessions/:id) or let one expire.`,
  );
}
