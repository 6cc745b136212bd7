/**
 * Text chat through `POST /api/chat`, streamed: the message shows at once, the reply grows with
 * each `delta` frame, and `done` settles it. Without a session the first message opens one, whose
 * keys come back in `done`; during a call the message goes to the same session and the agent
 * answers it out loud.
 */
import { useCallback, useRef, useState } from 'react';
import type { ChatResponse, ErrorBody } from '../../../common/protocol';
import { readSse } from '../../../common/sse';
import {
  ApiFailure,
  callApi,
  isSessionGone,
  keysOf,
  withPageTicket,
  withToken,
} from '../session/api';
import { describeFailure } from '../session/plainWords';
import type { SessionControl } from '../session/useSession';

export function useChat(session: SessionControl) {
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string>();
  const sentCount = useRef(0);
  const { current, opened, pageTicket, feed } = session;
  const { applyChat, markEnded } = feed;

  /** Resolves false when the message did not get through, so the composer can give it back. */
  const send = useCallback(
    async (text: string): Promise<boolean> => {
      const message = text.trim();
      if (!message) return false;
      sentCount.current += 1;
      const chatId = String(sentCount.current);
      const keys = current();
      setSending(true);
      setError(undefined);
      applyChat({ type: 'sent', chatId, text: message });
      try {
        const headers = { 'content-type': 'application/json', accept: 'text/event-stream' };
        const response = await callApi('/api/chat', {
          method: 'POST',
          headers: keys ? withToken(keys, headers) : withPageTicket(await pageTicket(), headers),
          body: JSON.stringify({
            message,
            stream: true,
            ...(keys && { sessionId: keys.sessionId }),
          }),
        });
        if (!response.body) throw new ApiFailure(0, 'no_body', 'The reply was empty.');
        for await (const frame of readSse(response.body)) {
          if (frame.event === 'delta') {
            applyChat({
              type: 'delta',
              chatId,
              text: (JSON.parse(frame.data) as { text: string }).text,
            });
          } else if (frame.event === 'done') {
            const done = JSON.parse(frame.data) as ChatResponse;
            if (done.sessionToken) opened(keysOf(done.sessionId, done.sessionToken));
            applyChat({ type: 'done', chatId, text: done.message });
          } else if (frame.event === 'error') {
            const { error: failure } = JSON.parse(frame.data) as ErrorBody;
            throw new ApiFailure(500, failure.code, failure.message);
          }
        }
        return true;
      } catch (failure) {
        applyChat({ type: 'failed', chatId });
        setError(describeFailure(failure));
        if (isSessionGone(failure)) markEnded((failure as ApiFailure).code);
        return false;
      } finally {
        setSending(false);
      }
    },
    [current, opened, pageTicket, applyChat, markEnded],
  );

  return { send, sending, error };
}
