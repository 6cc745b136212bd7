/**
 * The LLM's view of a conversation: the session's instructions, then the most recent turns of
 * its transcript (the event log's conversation items), then the new message.
 */
import { DEFAULT_INSTRUCTIONS } from '../../common/assistant.js';
import type { SessionEvent } from '../../common/protocol.js';
import type { ChatTurn } from './llm.js';

type ConversationItem = Extract<SessionEvent, { event_type: 'conversation_item' }>;

export function chatMessages(options: {
  instructions: string | null;
  history: ConversationItem[];
  /** How many recent messages (user and assistant) the LLM sees. */
  window: number;
  message: string;
}): ChatTurn[] {
  const recent = options.window > 0 ? options.history.slice(-options.window) : [];
  return [
    { role: 'system', content: options.instructions?.trim() || DEFAULT_INSTRUCTIONS },
    ...recent
      .filter((item) => item.text.trim() !== '')
      .map((item) => ({ role: item.role, content: item.text })),
    { role: 'user', content: options.message },
  ];
}
