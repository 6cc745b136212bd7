/**
 * A page of a session's transcript, built from the event log's `conversation_item` events (the
 * log is the single source of truth for the transcript). The cursor is an item's `seq` in the log:
 * stable, and it needs no state in the API. Served by the transcript route and the MCP tool.
 */
import type { TranscriptResponse } from '../common/protocol.js';
import type { SessionStore } from './store/types.js';

export async function readTranscriptPage(
  store: Pick<SessionStore, 'readConversationAfter'>,
  sessionId: string,
  { after, limit }: { after: number; limit: number },
): Promise<TranscriptResponse> {
  // One item more than the page tells whether more follow, without counting the rest.
  const read = await store.readConversationAfter(sessionId, after, limit + 1);
  const page = read.slice(0, limit);
  const items = page.map((item) => ({
    item_id: item.item_id,
    role: item.role,
    text: item.text,
    source: item.source,
    timestamp: item.timestamp,
  }));
  const nextAfter = page.at(-1)?.seq ?? after;
  return { sessionId, items, nextAfter, hasMore: read.length > limit };
}
