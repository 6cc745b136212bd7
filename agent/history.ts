/**
 * The conversation a call starts from: what the session already said (by voice in an earlier
 * call, or by text chat), read from the API with the job's ingest token. A call starts without it,
 * rather than not at all, when the API cannot answer.
 */
import { llm } from '@livekit/agents';
import { historyResponseSchema } from '../common/protocol.js';

const HISTORY_TIMEOUT_MS = 3000;

export async function loadHistory(options: {
  apiUrl: string;
  sessionId: string;
  ingestToken: string;
  log: { warn(obj: object, msg: string): void };
}): Promise<llm.ChatContext> {
  const chatCtx = llm.ChatContext.empty();
  const url = `${options.apiUrl.replace(/\/+$/, '')}/internal/sessions/${encodeURIComponent(options.sessionId)}/history`;
  try {
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${options.ingestToken}` },
      signal: AbortSignal.timeout(HISTORY_TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`status ${response.status}`);
    for (const item of historyResponseSchema.parse(await response.json()).items) {
      chatCtx.addMessage({ role: item.role, content: item.text, id: item.item_id });
    }
  } catch (error) {
    options.log.warn({ error: String(error) }, 'starting the call without the session history');
  }
  return chatCtx;
}
