/**
 * The conversation's session: handed to the page by the site that runs it (the address's fragment
 * at load, or a message from the embedding page), or opened by the first call or chat message;
 * followed through its feed, and replaced by a fresh one, with an empty transcript, once it has
 * ended.
 */
import { useCallback, useRef, useState } from 'react';
import { useSessionFeed } from '../feed/useSessionFeed';
import type { SessionKeys } from './api';
import { useHandedSessions } from './handoff';
import { usePageAccess } from './usePageAccess';

export function useSession(handedAtLoad: SessionKeys | undefined) {
  const [keys, setKeys] = useState<SessionKeys | undefined>(handedAtLoad);
  const feed = useSessionFeed(keys);
  const page = usePageAccess();
  const ended = feed.endReason !== undefined;
  const { reset } = feed;

  /** The session a new request belongs to; none after an ended one, so the request opens one. */
  const current = useCallback((): SessionKeys | undefined => {
    if (!ended) return keys;
    reset();
    setKeys(undefined);
    return undefined;
  }, [ended, keys, reset]);

  /**
   * A session handed over while the page is open replaces the one it shows. Each is taken once:
   * an embedding page that posts it again (on every `ready`) cannot bring back one that ended.
   */
  const taken = useRef(new Set(handedAtLoad ? [handedAtLoad.sessionId] : []));
  const handOver = useCallback(
    (next: SessionKeys) => {
      if (taken.current.has(next.sessionId)) return;
      taken.current.add(next.sessionId);
      reset();
      setKeys(next);
    },
    [reset],
  );
  useHandedSessions(page.embedOrigins, handOver);

  return {
    keys: ended ? undefined : keys,
    feed,
    ended,
    current,
    opened: setKeys,
    pageTicket: page.ticket,
  };
}

export type SessionControl = ReturnType<typeof useSession>;
