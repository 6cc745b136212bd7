/**
 * The conversation as the page shows it: lines built from the session's events, plus the chat
 * messages this page sent and is still streaming. When the log reports one of those (a
 * `conversation_item`), the item takes over the line already shown instead of adding a second one,
 * so a message never appears twice and a line never jumps. Pure functions of the line list.
 */
import type { SessionEvent } from '../../../common/protocol';

export interface TranscriptLine {
  /** Stable React key: kept when the feed's item takes the line over. */
  key: string;
  role: 'user' | 'assistant';
  source: 'voice' | 'text';
  text: string;
  final: boolean;
  interrupted: boolean;
  /** Set once the session's log holds the line as a conversation item. */
  itemId?: string;
  /** The agent's spoken turn the line shows. */
  turnId?: string;
  /** The message sent from this page that the line belongs to (its text, or the reply). */
  chatId?: string;
  /** A user utterance's finished segments; the current interim result follows them. */
  settled?: string;
}

export type ChatAction =
  | { type: 'sent'; chatId: string; text: string }
  | { type: 'delta'; chatId: string; text: string }
  | { type: 'done'; chatId: string; text: string }
  | { type: 'failed'; chatId: string };

const line = (fields: Partial<TranscriptLine> & Pick<TranscriptLine, 'key' | 'role'>) => ({
  source: 'voice' as const,
  text: '',
  final: false,
  interrupted: false,
  ...fields,
});

const patch = (lines: TranscriptLine[], index: number, fields: Partial<TranscriptLine>) =>
  lines.map((item, i) => (i === index ? { ...item, ...fields } : item));

const joinWords = (...parts: (string | undefined)[]) => parts.filter(Boolean).join(' ');

/** The user's utterance still being transcribed: a voice line the log has not committed yet. */
const openUtterance = (lines: TranscriptLine[]) =>
  lines.findLastIndex((l) => l.role === 'user' && l.source === 'voice' && !l.itemId);

/** An agent reply waiting for its conversation item, oldest first: replies commit in order. */
const awaitingReply = (lines: TranscriptLine[]) =>
  lines.findIndex((l) => l.role === 'assistant' && !l.itemId && (l.turnId || l.chatId));

/** This page's reply draft for a chat message that no spoken turn has taken over. */
const chatDraft = (lines: TranscriptLine[], chatId?: string) =>
  lines.findIndex(
    (l) =>
      l.role === 'assistant' &&
      l.chatId !== undefined &&
      !l.turnId &&
      !l.itemId &&
      (chatId === undefined || l.chatId === chatId),
  );

/**
 * The page's own typed message that is the latest thing said and has no reply line yet. A reply
 * answered without a call can reach the feed before the first words of its stream reach the page:
 * its item is then that message's reply, which the stream must not show a second time.
 */
const unansweredChat = (lines: TranscriptLine[]) => {
  const chatId = lines.findLast((l) => l.role === 'user')?.chatId;
  const answered = lines.some((l) => l.role === 'assistant' && l.chatId === chatId);
  return chatId === undefined || answered ? undefined : chatId;
};

export function applyEvent(lines: TranscriptLine[], event: SessionEvent): TranscriptLine[] {
  switch (event.event_type) {
    case 'transcription': {
      let index = openUtterance(lines);
      if (index < 0) {
        lines = [...lines, line({ key: `seq-${event.seq}`, role: 'user' })];
        index = lines.length - 1;
      }
      const settled = lines[index]?.settled;
      if (!event.is_final) return patch(lines, index, { text: joinWords(settled, event.text) });
      const text = joinWords(settled, event.text);
      return patch(lines, index, { settled: text, text, final: true });
    }
    case 'agent_speaking': {
      // The event carries the words added (`delta`); the line grows by them.
      const index = lines.findIndex((l) => l.turnId === event.turn_id);
      if (index >= 0) {
        return patch(lines, index, { text: `${lines[index]?.text}${event.delta}`, final: false });
      }
      // During a call a typed message is answered by the agent out loud: its turn is the reply,
      // shown from its first spoken words rather than the streamed draft.
      const draft = chatDraft(lines);
      const taken = { turnId: event.turn_id, text: event.delta, final: false };
      if (draft >= 0) return patch(lines, draft, taken);
      return [...lines, line({ key: `turn-${event.turn_id}`, role: 'assistant', ...taken })];
    }
    case 'agent_finished': {
      const index = lines.findIndex((l) => l.turnId === event.turn_id);
      if (index < 0) return lines;
      const text = event.text || lines[index]?.text;
      return patch(lines, index, { text, final: true, interrupted: event.interrupted });
    }
    case 'conversation_item': {
      if (lines.some((l) => l.itemId === event.item_id)) return lines;
      const index =
        event.role === 'assistant'
          ? awaitingReply(lines)
          : event.source === 'voice'
            ? openUtterance(lines)
            : lines.findIndex(
                (l) => l.chatId && l.role === 'user' && !l.itemId && l.text === event.text,
              );
      const committed = { itemId: event.item_id, source: event.source, final: true };
      if (index < 0) {
        const key = `item-${event.item_id}`;
        const chatId =
          event.role === 'assistant' && event.source === 'text' ? unansweredChat(lines) : undefined;
        const fields = { key, role: event.role, text: event.text, ...committed };
        return [...lines, line(chatId === undefined ? fields : { ...fields, chatId })];
      }
      return patch(lines, index, { ...committed, text: event.text || lines[index]?.text });
    }
    default:
      return lines;
  }
}

/** A line of a message sent from this page, or of its streamed reply. */
const chatLine = (chatId: string, role: TranscriptLine['role'], text: string, final: boolean) =>
  line({ key: `chat-${chatId}-${role}`, role, source: 'text', chatId, text, final });

export function applyChat(lines: TranscriptLine[], action: ChatAction): TranscriptLine[] {
  const { chatId } = action;
  const userLine = lines.findIndex((l) => l.chatId === chatId && l.role === 'user');
  const draft = chatDraft(lines, chatId);
  switch (action.type) {
    case 'sent':
      return [...lines, chatLine(chatId, 'user', action.text, true)];
    case 'delta': {
      if (draft >= 0) return patch(lines, draft, { text: `${lines[draft]?.text}${action.text}` });
      // A spoken turn already answering this message (or the draft it took over) shows the reply.
      const shownElsewhere = lines.some(
        (l, i) =>
          (i > userLine && l.turnId && l.chatId === undefined) ||
          (l.chatId === chatId && l.role === 'assistant'),
      );
      return shownElsewhere ? lines : [...lines, chatLine(chatId, 'assistant', action.text, false)];
    }
    case 'done':
      return draft >= 0 ? patch(lines, draft, { text: action.text, final: true }) : lines;
    case 'failed':
      return lines.filter((l) => l.chatId !== chatId || l.itemId !== undefined || l.turnId);
  }
}
