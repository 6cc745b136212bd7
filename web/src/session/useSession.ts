/**
 * The conversation's session: opened by the first call or chat message, followed through its
 * feed, and replaced by a fresh one, with an empty transcript, once it has ended.
 */
import { useCallback, useState } from 'react';
import { useSessionFeed } from '../feed/useSessionFeed';
import type { SessionKeys } from './api';

export function useSession() {
  const [keys, setKeys] = useState<SessionKeys>();
  const feed = useSessionFeed(keys);
  const ended = feed.endReason !== undefined;
  const { reset } = feed;

  /** The session a new request belongs to; none after an ended one, so the request opens one. */
  const current = useCallback((): SessionKeys | undefined => {
    if (!ended) return keys;
    reset();
    setKeys(undefined);
    return undefined;
  }, [ended, keys, reset]);

  return { keys: ended ? undefined : keys, feed, ended, current, opened: setKeys };
}

export type SessionControl = ReturnType<typeof useSession>;
