/**
 * The cap on open sessions per client (MAX_OPEN_SESSIONS_PER_CLIENT): a client (an API key, or an
 * address without one) may hold that many sessions that have not ended and not expired. The store
 * counts them as it creates a session, so the cap holds exactly, also across API restarts.
 */
import type { ApiConfig } from './config.js';
import { apiError } from './errors.js';
import { type OpenSessionLimit, OpenSessionLimitError } from './store/types.js';

/** The limit to create a session under; undefined when there is no cap. */
export function openSessionLimit(config: ApiConfig): OpenSessionLimit | undefined {
  const max = config.MAX_OPEN_SESSIONS_PER_CLIENT;
  if (max === 0) return undefined;
  return {
    max,
    activeSince: new Date(Date.now() - config.SESSION_IDLE_TIMEOUT_S * 1000).toISOString(),
  };
}

/** The store's refusal as the API's 429; any other error as it is. */
export function quotaError(error: unknown): unknown {
  if (!(error instanceof OpenSessionLimitError)) return error;
  return apiError(
    429,
    'too_many_open_sessions',
    `This client has ${error.max} open sessions; end one (DELETE /api/sessions/:id) or let one expire.`,
  );
}
