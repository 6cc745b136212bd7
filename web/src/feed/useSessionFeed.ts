/**
 * Follows a session's event feed with EventSource. A dropped connection is resumed by the browser
 * itself (it sends Last-Event-ID); when the browser gives up (an HTTP error), the page asks the
 * API whether the session still exists and either reports its end or resumes after the last seq.
 */
import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import type { SessionEvent, SessionEventType } from '../../../common/protocol';
import { ApiFailure, getSession, type SessionKeys } from '../session/api';
import { initialFeedState, reduceFeed } from './feedState';
import type { ChatAction } from './transcript';

/** Every event type, checked against the protocol: SSE frames are named, so each needs a listener. */
const EVENT_TYPES = Object.keys({
  session_started: true,
  state_change: true,
  user_speaking: true,
  transcription: true,
  agent_speaking: true,
  agent_finished: true,
  conversation_item: true,
  metrics: true,
  tool_call: true,
  tool_result: true,
  error: true,
  session_ended: true,
} satisfies Record<SessionEventType, true>);

const RESUME_AFTER_MS = 3000;

export type FeedLink = 'off' | 'connecting' | 'live' | 'reconnecting';

export function useSessionFeed(session: SessionKeys | undefined) {
  const [state, dispatch] = useReducer(reduceFeed, initialFeedState);
  const [link, setLink] = useState<FeedLink>('off');
  const lastSeq = useRef({ sessionId: '', seq: 0 });

  useEffect(() => {
    if (!session) return;
    if (lastSeq.current.sessionId !== session.sessionId) {
      lastSeq.current = { sessionId: session.sessionId, seq: 0 };
    }
    let source: EventSource | undefined;
    let resumeTimer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const stop = () => {
      stopped = true;
      source?.close();
      clearTimeout(resumeTimer);
      setLink('off');
    };

    const onEvent = (message: Event) => {
      // `error` is also EventSource's own connection event, which carries no data.
      if (!(message instanceof MessageEvent)) return;
      const event = JSON.parse(message.data) as SessionEvent;
      lastSeq.current.seq = Math.max(lastSeq.current.seq, event.seq);
      dispatch({ type: 'event', event });
      // The server closes an ended session's stream; without this the browser would reconnect.
      if (event.event_type === 'session_ended') stop();
    };

    const resumeLater = () => {
      resumeTimer = setTimeout(() => void checkAndResume(), RESUME_AFTER_MS);
    };
    const checkAndResume = async () => {
      try {
        const described = await getSession(session);
        if (stopped) return;
        if (described.endedAt) {
          dispatch({ type: 'ended', reason: 'ended' });
          stop();
        } else open();
      } catch (error) {
        if (stopped) return;
        if (error instanceof ApiFailure && error.status >= 400 && error.status < 500) {
          dispatch({ type: 'ended', reason: 'session_not_found' });
          stop();
        } else resumeLater();
      }
    };

    const open = () => {
      const url = new URL(session.eventsUrl, window.location.href);
      url.searchParams.set('token', session.sessionToken);
      if (lastSeq.current.seq > 0) url.searchParams.set('lastEventId', String(lastSeq.current.seq));
      source = new EventSource(url);
      setLink('connecting');
      for (const type of EVENT_TYPES) source.addEventListener(type, onEvent);
      source.onopen = () => setLink('live');
      source.onerror = (event) => {
        if (stopped || event instanceof MessageEvent) return;
        setLink('reconnecting');
        if (source?.readyState === EventSource.CLOSED) resumeLater();
      };
    };

    open();
    return stop;
  }, [session]);

  const applyChat = useCallback((action: ChatAction) => dispatch({ type: 'chat', action }), []);
  const markEnded = useCallback((reason: string) => dispatch({ type: 'ended', reason }), []);
  const reset = useCallback(() => dispatch({ type: 'reset' }), []);
  return { ...state, link, applyChat, markEnded, reset };
}
