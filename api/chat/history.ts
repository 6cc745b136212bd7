/**
 * The LLM's view of a conversation: the session's instructions, then the most recent turns of
 * its transcript (the event log's conversation items), then the new message.
 */
import { DEFAULT_INSTRUCTIONS } from '../../common/assistant.js';
import type { ConversationItem } from '../store/types.js';
import type { ChatTurn } from './llm.js';

export function chatMessages(options: {
  instructions: string | null;
  /** The recent messages (user and assistant) the LLM sees, in order. */
  history: ConversationItem[];
  message: string;
}): ChatTurn[] {
  return [
    { role: 'system', content: options.instructions?.trim() || DEFAULT_INSTRUCTIONS },
    ...options.history
      .filter((item) => item.text.trim() !== '')
      .map((item) => ({ role: item.role, content: item.text })),
    { role: 'user', content: options.message },
  ];
}
