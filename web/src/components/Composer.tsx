/**
 * The message box. Enter sends, Shift+Enter starts a new line; while a message is on its way the
 * box stays editable but cannot send, and a message that did not get through is put back.
 */
import { type KeyboardEvent, type RefObject, useState } from 'react';

interface ComposerProps {
  onSend: (text: string) => Promise<boolean>;
  sending: boolean;
  error: string | undefined;
  inputRef: RefObject<HTMLTextAreaElement | null>;
}

export function Composer({ onSend, sending, error, inputRef }: ComposerProps) {
  const [text, setText] = useState('');
  const canSend = !sending && text.trim() !== '';

  const submit = async () => {
    if (!canSend) return;
    const message = text;
    setText('');
    if (!(await onSend(message))) setText((typed) => typed || message);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    // Enter while composing (IME) picks a candidate; it must not send.
    if (event.key !== 'Enter' || event.shiftKey || event.nativeEvent.isComposing) return;
    event.preventDefault();
    void submit();
  };

  return (
    <form
      className="composer"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      {error && (
        <p className="composer-error" role="alert">
          {error}
        </p>
      )}
      <div className="composer-row">
        <label htmlFor="message" className="visually-hidden">
          Message
        </label>
        <textarea
          id="message"
          ref={inputRef}
          rows={1}
          value={text}
          placeholder="Type a message…"
          aria-describedby="message-hint"
          onChange={(event) => setText(event.target.value)}
          onKeyDown={onKeyDown}
        />
        <button type="submit" className="button primary" disabled={!canSend}>
          {sending ? 'Sending…' : 'Send'}
        </button>
      </div>
      <p id="message-hint" className="hint">
        Enter to send · Shift+Enter for a new line
      </p>
    </form>
  );
}
