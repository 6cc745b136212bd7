/**
 * The conversation, voice and typed, in one list. Lines still being heard or spoken are marked
 * `data-final="false"` and shown dimmed. The view keeps to the newest line unless the reader has
 * scrolled up to read back.
 */
import { useLayoutEffect, useRef } from 'react';
import type { TranscriptLine } from '../feed/transcript';

const STICK_TO_BOTTOM_PX = 48;

export function Transcript({ lines }: { lines: TranscriptLine[] }) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);

  useLayoutEffect(() => {
    const view = scrollRef.current;
    if (view && atBottom.current) view.scrollTop = view.scrollHeight;
  });

  const onScroll = () => {
    const view = scrollRef.current;
    if (!view) return;
    atBottom.current = view.scrollHeight - view.scrollTop - view.clientHeight < STICK_TO_BOTTOM_PX;
  };

  return (
    <div
      className="transcript"
      ref={scrollRef}
      onScroll={onScroll}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard to be scrolled.
      tabIndex={0}
      role="log"
      aria-label="Conversation"
    >
      {lines.length === 0 && (
        <p className="transcript-empty">Start a call and say hello, or type a message below.</p>
      )}
      <ol className="lines" aria-label="Transcript">
        {lines.map((line) => (
          <li
            key={line.key}
            className="line"
            data-role={line.role}
            data-final={line.final ? 'true' : 'false'}
          >
            <span className="line-meta">
              {line.role === 'user' ? 'You' : 'Agent'}
              <span className="line-source">{line.source === 'voice' ? 'voice' : 'text'}</span>
            </span>
            <span className="line-text">
              {line.text || '…'}
              {line.interrupted && <span className="line-interrupted"> (interrupted)</span>}
            </span>
          </li>
        ))}
      </ol>
    </div>
  );
}
