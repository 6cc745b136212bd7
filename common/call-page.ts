/**
 * What the call page shares with the API and with the sites that embed it, beyond the zod
 * schemas (kept out of the page's bundle): the header of its page ticket, and the two messages of
 * the postMessage hand-off. An embedding page waits for `ready` from the frame, then posts
 * `session` to it, with the page's origin as the target so no other page can read the token.
 */

/** `PAGE_SESSIONS`: whether the call page may open sessions without an API key. */
export const PAGE_SESSION_MODES = ['open', 'off'] as const;
export type PageSessionMode = (typeof PAGE_SESSION_MODES)[number];

/** The header that carries a page ticket (`GET /api/page`) on a request that opens a session. */
export const PAGE_TICKET_HEADER = 'X-Page-Ticket';

/** Posted by the framed page to its parent once it listens for a session. */
export interface PageReadyMessage {
  type: 'voice-agent:ready';
}

/** Posted by the embedding page to the frame: the session its backend opened. */
export interface PageSessionMessage {
  type: 'voice-agent:session';
  sessionId: string;
  sessionToken: string;
}

export const PAGE_READY_MESSAGE: PageReadyMessage = { type: 'voice-agent:ready' };
export const PAGE_SESSION_MESSAGE_TYPE: PageSessionMessage['type'] = 'voice-agent:session';
