/**
 * Sessions handed to the page by the site that runs it: its backend opens the session with its
 * API key and sends the browser to `/#session=<id>&token=<sessionToken>` (a fragment never reaches
 * a server or its logs, and the page drops it from the address at once), or embeds the page in a
 * frame and posts the session to it. Posted sessions are taken only from the parent window, and
 * only from the embedding origins the server names (CORS_ORIGINS).
 */
import { useEffect } from 'react';
import {
  PAGE_READY_MESSAGE,
  PAGE_SESSION_MESSAGE_TYPE,
  type PageSessionMessage,
} from '../../../common/call-page';
import { keysOf, type SessionKeys } from './api';

/** The session in the address's fragment, if any; the fragment is removed from the address. */
export function takeSessionFromFragment(): SessionKeys | undefined {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const sessionId = fragment.get('session');
  const sessionToken = fragment.get('token');
  if (!sessionId && !sessionToken) return undefined;
  // Not kept in the history, where Back or a shared screen would show the token.
  const { pathname, search } = window.location;
  window.history.replaceState(window.history.state, '', pathname + search);
  return sessionId && sessionToken ? keysOf(sessionId, sessionToken) : undefined;
}

const isSessionMessage = (data: unknown): data is PageSessionMessage => {
  const message = data as Partial<PageSessionMessage> | null;
  return (
    typeof message === 'object' &&
    message !== null &&
    message.type === PAGE_SESSION_MESSAGE_TYPE &&
    typeof message.sessionId === 'string' &&
    message.sessionId !== '' &&
    typeof message.sessionToken === 'string' &&
    message.sessionToken !== ''
  );
};

/**
 * In a frame: takes sessions posted by the parent from one of `embedOrigins` (`*`: any, which the
 * server allows only in development), and tells the parent when it listens.
 */
export function useHandedSessions(
  embedOrigins: readonly string[] | undefined,
  onSession: (keys: SessionKeys) => void,
) {
  useEffect(() => {
    if (!embedOrigins || window.parent === window) return;
    const allowed = (origin: string) => embedOrigins.includes('*') || embedOrigins.includes(origin);
    const onMessage = (event: MessageEvent) => {
      if (event.source !== window.parent || !isSessionMessage(event.data)) return;
      if (!allowed(event.origin)) {
        console.warn(
          `Ignored a session posted by ${event.origin}: only the embedding origins the server allows (CORS_ORIGINS) may hand over sessions.`,
        );
        return;
      }
      onSession(keysOf(event.data.sessionId, event.data.sessionToken));
    };
    window.addEventListener('message', onMessage);
    // The parent learns nothing from this but that the page listens, so any origin may read it.
    window.parent.postMessage(PAGE_READY_MESSAGE, '*');
    return () => window.removeEventListener('message', onMessage);
  }, [embedOrigins, onSession]);
}
