/**
 * What a tool call answers: its result as JSON text (for clients that read only text) and as
 * structured content; or, when the API's logic refuses it, an error result (`isError`) naming the
 * API's stable code and message, as the HTTP API would in its error body. Never a provider's raw
 * text or a stack: an unexpected failure is logged and answered as `internal_error`.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { publicError } from '../errors.js';

export function jsonResult(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
}

export function errorResult(error: unknown, log: (error: Error) => void): CallToolResult {
  const failure = error instanceof Error ? error : new Error(String(error));
  const { code, message, unexpected } = publicError(failure);
  if (unexpected) log(failure);
  return {
    content: [{ type: 'text', text: JSON.stringify({ error: { code, message } }) }],
    isError: true,
  };
}

/** Runs a tool's work, turning a failure into an error result. */
export async function toolResult(
  work: () => Promise<Record<string, unknown>>,
  log: (error: Error) => void,
): Promise<CallToolResult> {
  try {
    return jsonResult(await work());
  } catch (error) {
    return errorResult(error, log);
  }
}
