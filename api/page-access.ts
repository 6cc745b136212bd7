/**
 * Who may open a session (`POST /api/sessions`, `/api/chat` without a session): an API client,
 * with one of API_KEYS when they are set, as always; and with PAGE_SESSIONS=open the call page
 * without a key. A page request carries a page ticket (X-Page-Ticket, from `GET /api/page`) and no
 * API key. It must come from the page's own origin, and its ticket must be one this server signed
 * for that origin and not expired. Its session gets the server's instructions (PAGE_INSTRUCTIONS),
 * never the client's, so an anonymous caller cannot repurpose the agent, and its own, stricter rate
 * limit (abuse-limits.ts).
 *
 * The two checks stop different things. A browser always sends its page's `Origin` and cannot be
 * made to send another, so pages of other sites cannot open sessions through their visitors'
 * browsers (the CORS_ORIGINS ones may read a ticket, but not use it). The ticket expires within
 * minutes, so a script that does not load the page cannot keep opening sessions with one it copied
 * once; a script that does, and sends any Origin it likes, is held by the per-address limits.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { PAGE_TICKET_HEADER } from '../common/call-page.js';
import { checkApiKey, presentedKey } from './api-keys.js';
import type { ApiConfig } from './config.js';
import { apiError } from './errors.js';
import type { SessionTokens } from './session-tokens.js';

/** How long a page ticket lasts; the page fetches a new one before it runs out. */
export const PAGE_TICKET_TTL_S = 600;

/** Who opens a session: an API client (with its key when keys are set) or the call page. */
export type SessionOpener = 'api' | 'page';

declare module 'hono' {
  interface ContextVariableMap {
    /** Set by `requireSessionOpener` on `POST /api/sessions`. */
    sessionOpener: SessionOpener;
  }
}

export type PageAccessConfig = Pick<
  ApiConfig,
  'API_KEYS' | 'PAGE_SESSIONS' | 'PAGE_INSTRUCTIONS' | 'PUBLIC_URL'
>;

/**
 * The origin the call page is served from: PUBLIC_URL's when set (behind a proxy the request's own
 * URL is the proxy's upstream), else the request's.
 */
export const pageOrigin = (config: Pick<ApiConfig, 'PUBLIC_URL'>, c: Context) =>
  new URL(config.PUBLIC_URL ?? c.req.url).origin;

/** Whether a request asks to open a session as the call page: open mode, a ticket, no API key. */
export const isPageRequest = (config: PageAccessConfig, c: Context) =>
  config.PAGE_SESSIONS === 'open' &&
  presentedKey(c) === undefined &&
  c.req.header(PAGE_TICKET_HEADER) !== undefined;

/** Checks a request that opens a session and answers who opens it; throws the refusal. */
export function checkSessionOpener(
  config: PageAccessConfig,
  pageTickets: SessionTokens,
): (c: Context) => Promise<SessionOpener> {
  const checkKey = checkApiKey(config.API_KEYS);
  return async (c) => {
    if (!isPageRequest(config, c)) {
      checkKey(c);
      return 'api';
    }
    const origin = pageOrigin(config, c);
    if (c.req.header('origin') !== origin) {
      throw apiError(
        403,
        'origin_not_allowed',
        'Sessions are opened with a page ticket only by the call page, from its own origin.',
      );
    }
    const ticketOrigin = await pageTickets.verify(c.req.header(PAGE_TICKET_HEADER) ?? '');
    if (ticketOrigin !== origin) {
      throw apiError(401, 'invalid_page_ticket', 'The page ticket is not valid or has expired.');
    }
    return 'page';
  };
}

export function requireSessionOpener(
  check: (c: Context) => Promise<SessionOpener>,
): MiddlewareHandler {
  return async function requireSessionOpener(c, next) {
    c.set('sessionOpener', await check(c));
    return next();
  };
}

/** The instructions a new session gets: the page's own in open mode, else what the client asks. */
export const sessionInstructions = (
  config: PageAccessConfig,
  opener: SessionOpener,
  requested: string | undefined,
) => (opener === 'page' ? config.PAGE_INSTRUCTIONS : requested);
