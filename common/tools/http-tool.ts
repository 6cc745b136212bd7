/**
 * Calling an HTTP tool: one POST of `{session_id, tool, arguments, call_id}` to its URL, signed
 * with TOOLS_SIGNING_SECRET so the receiver knows it comes from this server (README, Tools: how to
 * check it). The answer's body is the result the LLM gets.
 */
import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpTool } from './declarations.js';

export const TIMESTAMP_HEADER = 'x-voice-agent-timestamp';
export const SIGNATURE_HEADER = 'x-voice-agent-signature';
/** A result longer than this is refused rather than cut: a cut result could mislead the LLM. */
export const TOOL_RESULT_MAX_BYTES = 32 * 1024;

/** `sha256=` and the hex HMAC-SHA256 of `<timestamp>.<body>`. */
export const signToolCall = (secret: string, timestamp: string, body: string) =>
  `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;

/** A tool call that did not give a result; `message` is short and safe to show the LLM. */
export class ToolCallError extends Error {
  override name = 'ToolCallError';
}

export interface HttpToolCall {
  sessionId: string;
  callId: string;
  arguments: Record<string, unknown>;
  /** Unset: the call goes unsigned (allowed outside production only, see the configs). */
  secret: string | undefined;
  signal?: AbortSignal;
}

const RETRYABLE_STATUS = new Set([502, 503, 504]);

export async function callHttpTool(tool: HttpTool, call: HttpToolCall): Promise<string> {
  const body = JSON.stringify({
    session_id: call.sessionId,
    tool: tool.name,
    arguments: call.arguments,
    call_id: call.callId,
  });
  const attempts = tool.idempotent ? 2 : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await post(tool, body, call);
    } catch (error) {
      const retry = error instanceof RetryableToolError && attempt < attempts;
      if (!retry || call.signal?.aborted) throw asCallError(error, tool);
      await sleep(200, undefined, { signal: call.signal }).catch(() => {});
    }
  }
}

class RetryableToolError extends ToolCallError {}

async function post(tool: HttpTool, body: string, call: HttpToolCall): Promise<string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const timeout = AbortSignal.timeout(tool.timeoutMs);
  const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
  let response: Response;
  try {
    response = await fetch(tool.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [TIMESTAMP_HEADER]: timestamp,
        ...(call.secret !== undefined && {
          [SIGNATURE_HEADER]: signToolCall(call.secret, timestamp, body),
        }),
      },
      body,
      signal,
      redirect: 'manual',
    });
  } catch (error) {
    if (timeout.aborted) throw new ToolCallError(`no answer within ${tool.timeoutMs} ms`);
    if (call.signal?.aborted) throw error;
    throw new RetryableToolError(`could not be reached (${(error as Error).cause ?? error})`);
  }
  try {
    const text = await readLimited(response);
    if (response.status >= 300 && response.status < 400) {
      throw new ToolCallError('answered with a redirect, which is not followed');
    }
    if (RETRYABLE_STATUS.has(response.status)) {
      throw new RetryableToolError(`answered HTTP ${response.status}`);
    }
    if (!response.ok) throw new ToolCallError(`answered HTTP ${response.status}`);
    return text;
  } catch (error) {
    if (timeout.aborted) throw new ToolCallError(`no answer within ${tool.timeoutMs} ms`);
    throw error;
  }
}

/** The body, read only as far as the limit: a larger one is refused without being held. */
async function readLimited(response: Response): Promise<string> {
  const tooLarge = () => new ToolCallError(`answered more than ${TOOL_RESULT_MAX_BYTES} bytes`);
  if (Number(response.headers.get('content-length') ?? 0) > TOOL_RESULT_MAX_BYTES) {
    await response.body?.cancel();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.byteLength;
    if (size > TOOL_RESULT_MAX_BYTES) {
      await response.body?.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function asCallError(error: unknown, tool: HttpTool): Error {
  if (error instanceof ToolCallError) return new ToolCallError(`${tool.name} ${error.message}`);
  return error as Error;
}
