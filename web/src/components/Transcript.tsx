/**
 * The conversation, voice and typed, in one list. Lines still being heard or spoken are marked
 * `data-final="false"` and shown dimmed. A tool the agent called is a small muted line where it
 * happened ("Looked up get weather · 120 ms"); its arguments only in a tooltip. The view keeps to
 * the newest line unless the reader has scrolled up to read back.
 */
import { useLayoutEffect, useRef } from 'react';
import { describeToolUse, type ToolUse, type TranscriptLine } from '../feed/transcript';

function ToolLine({ tool }: { tool: ToolUse }) {
  return (
    <li
      className="tool-line"
      data-status={tool.status}
      // An attribute React sets as text: the arguments are never parsed as markup.
      title={tool.arguments === undefined ? undefined : `${tool.name} ${tool.arguments}`}
    >
      {describeToolUse(tool)}
    </li>
  );
}

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
        {lines.map((line) =>
          line.tool ? (
            <ToolLine key={line.key} tool={line.tool} />
          ) : (
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
          ),
        )}
      </ol>
    </div>
  );
}
