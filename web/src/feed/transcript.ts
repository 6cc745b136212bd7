/**
 * The conversation as the page shows it: lines built from the session's events, plus the chat
 * messages this page sent and is still streaming. When the log reports one of those (a
 * `conversation_item`), the item takes over the line already shown instead of adding a second one,
 * so a message never appears twice and a line never jumps. A tool the agent calls is a compact line
 * where the call happened, found again by its `call_id` when its result comes. Pure functions of
 * the line list.
 */
import type { SessionEvent } from '../../../common/protocol';

/** A tool call as its line shows it. The arguments stay out of the text (they may be private). */
export interface ToolUse {
  callId: string;
  name: string;
  /** `stopped`: the session ended before the tool's result was reported. */
  status: 'running' | 'ok' | 'failed' | 'stopped';
  durationMs?: number;
  /** The call's arguments as JSON, shortened: only for a tooltip. */
  arguments?: string;
}

export interface TranscriptLine {
  /** Stable React key: kept when the feed's item takes the line over. */
  key: string;
  /** `tool`: a tool call's line (`tool` is set); no message finder ever takes one over. */
  role: 'user' | 'assistant' | 'tool';
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
  tool?: ToolUse;
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

const ARGUMENTS_SHOWN = 300;

const argumentsText = (args: Record<string, unknown>) => {
  const json = JSON.stringify(args);
  return json.length > ARGUMENTS_SHOWN ? `${json.slice(0, ARGUMENTS_SHOWN - 1)}…` : json;
};

/** A call's line (the LLM's call ids are unique in a session). */
const toolLine = (lines: TranscriptLine[], callId: string) =>
  lines.findIndex((l) => l.tool?.callId === callId);

/** A tool's name as words: `get_weather` → `get weather`. */
export const toolWords = (name: string) => name.replace(/[_-]+/g, ' ').trim() || name;

const duration = (ms: number) =>
  ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

/** What a tool call's line says. */
export function describeToolUse(tool: ToolUse): string {
  const name = toolWords(tool.name);
  switch (tool.status) {
    case 'running':
      return `Looking up ${name}…`;
    case 'ok':
      return tool.durationMs === undefined
        ? `Looked up ${name}`
        : `Looked up ${name} · ${duration(tool.durationMs)}`;
    case 'failed':
      return `Could not look up ${name}`;
    case 'stopped':
      return `Stopped looking up ${name}`;
  }
}

/** The session is over: a call still shown as running will not report a result any more. */
export const stopRunningTools = (lines: TranscriptLine[]) =>
  lines.some((l) => l.tool?.status === 'running')
    ? lines.map((l) =>
        l.tool?.status === 'running'
          ? { ...l, tool: { ...l.tool, status: 'stopped' as const } }
          : l,
      )
    : lines;

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
    case 'tool_call': {
      // One line per call: the same call reported again (a retried report) shows once.
      if (toolLine(lines, event.call_id) >= 0) return lines;
      const tool: ToolUse = {
        callId: event.call_id,
        name: event.name,
        status: 'running',
        arguments: argumentsText(event.arguments),
      };
      return [...lines, line({ key: `tool-${event.call_id}`, role: 'tool', final: false, tool })];
    }
    case 'tool_result': {
      const result = {
        status: event.ok ? ('ok' as const) : ('failed' as const),
        durationMs: event.duration_ms,
      };
      const index = toolLine(lines, event.call_id);
      const shownTool = lines[index]?.tool;
      if (shownTool) return patch(lines, index, { final: true, tool: { ...shownTool, ...result } });
      // The call itself is not in the log the page read (dropped): the result still shows it.
      const tool: ToolUse = { callId: event.call_id, name: event.name, ...result };
      return [...lines, line({ key: `tool-${event.call_id}`, role: 'tool', final: true, tool })];
    }
    case 'session_ended':
      return stopRunningTools(lines);
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
