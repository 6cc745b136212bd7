/**
 * The API's LLM: the same OpenAI-compatible endpoint and model as the agent, for text chat
 * without a live call and for `GET /api/models`. Its requests are retried by the API's one retry
 * policy for provider calls (`withRetries`: connection errors, timeouts, 408, 429, 5xx, honouring
 * a short Retry-After, with backoff and jitter), the OpenAI client's own retries being off; a reply
 * is retried only until its stream opens.
 * A reply that fails before its first word goes to the fallback LLM when one is configured
 * (LLM_FALLBACK_*), as the agent's does. What still fails becomes an `ApiError` with a stable code,
 * never the provider's text.
 * With tools the reply is the OpenAI tool loop: the tool calls the LLM asks for are run through
 * the session's toolbox and their results (or failures) given back, for at most MAX_TOOL_STEPS
 * rounds, as the agent's framework does in a call.
 */
import OpenAI from 'openai';
import type {
  ChatCompletionMessageFunctionToolCall,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { fallbackConfigs, openaiApiKey, type ProvidersConfig } from '../../common/config.js';
import { failureForLlm, type Toolbox, type ToolSpec } from '../../common/tools/toolbox.js';
import { ApiError, apiError } from '../errors.js';
import { ProviderError } from '../providers/errors.js';
import { providerErrorOf } from '../providers/http.js';
import { DEFAULT_RETRY, type RetryPolicy, withRetries } from '../providers/retry.js';

export type ChatTurn = { role: 'system' | 'user' | 'assistant'; content: string };

/** Rounds of tool calls in one reply; then the LLM must answer in words (the framework's default). */
export const MAX_TOOL_STEPS = 3;

export interface ChatLlm {
  /**
   * Yields the reply as it is generated; stops (and cancels upstream) when `signal` aborts. With a
   * toolbox, runs the tools the LLM calls and yields the words of every round.
   */
  streamReply(messages: ChatTurn[], signal: AbortSignal, toolbox?: Toolbox): AsyncGenerator<string>;
  listModels(signal: AbortSignal): Promise<{ id: string; owned_by: string }[]>;
}

export interface ChatLlmOptions {
  retry?: Partial<RetryPolicy>;
  /** Per attempt. */
  timeoutMs?: number;
  log?: (details: object, message: string) => void;
}

export function createChatLlm(config: ProvidersConfig, options: ChatLlmOptions = {}): ChatLlm {
  const openaiClient = (stage: ProvidersConfig) =>
    new OpenAI({
      apiKey: openaiApiKey(stage),
      ...(stage.LLM_BASE_URL !== undefined && { baseURL: stage.LLM_BASE_URL }),
      maxRetries: 0,
      timeout: options.timeoutMs ?? 30_000,
    });
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  /** One request to the LLM under the retry policy; its failure as a `ProviderError`. */
  const request = <T>(send: () => Promise<T>, signal: AbortSignal) =>
    withRetries(
      () =>
        send().catch((error: unknown) => {
          if (signal.aborted) throw error;
          throw asProviderError(error);
        }),
      { ...retry, signal },
    );
  const first = { client: openaiClient(config), model: config.LLM_MODEL, name: 'first' };
  const fallback = fallbackConfigs(config).llm;
  /** The LLMs a reply is asked of, in order. */
  const llms = fallback
    ? [first, { client: openaiClient(fallback), model: fallback.LLM_MODEL, name: 'fallback' }]
    : [first];
  const failed = (error: unknown, llm = 'first'): ApiError => {
    if (error instanceof ApiError) return error;
    const failure = asProviderError(error);
    options.log?.(
      { llm, status: failure.status, kind: (failure.cause as Error)?.name },
      'LLM request failed',
    );
    // A refusal that another attempt would get again is the request's fault (model, key):
    // waiting will not help, so it is not "unavailable".
    if (!failure.retryable) {
      return apiError(
        502,
        'llm_request_rejected',
        'The language model rejected the request; check LLM_MODEL and the API key.',
      );
    }
    return apiError(
      503,
      'llm_unavailable',
      'The language model is unavailable; try again shortly.',
    );
  };

  // Without either, the client would send a placeholder key to api.openai.com.
  const requireConfigured = () => {
    if (!config.OPENAI_API_KEY && !config.LLM_BASE_URL) {
      throw apiError(
        503,
        'provider_not_configured',
        'No LLM configured: set OPENAI_API_KEY or LLM_BASE_URL.',
      );
    }
  };

  /**
   * One round: yields its words, answers the tool calls it asked for (none: the reply is done).
   * A round that fails before its first word or call goes to the fallback LLM.
   */
  async function* streamRound(
    messages: ChatCompletionMessageParam[],
    tools: ChatCompletionTool[] | undefined,
    lastRound: boolean,
    signal: AbortSignal,
  ): AsyncGenerator<string, ToolCall[]> {
    for (const [index, llm] of llms.entries()) {
      let started = false;
      const calls = new ToolCalls();
      try {
        const stream = await request(
          () =>
            llm.client.chat.completions.create(
              {
                model: llm.model,
                messages,
                stream: true,
                ...(tools && { tools, tool_choice: lastRound ? 'none' : 'auto' }),
              },
              { signal },
            ),
          signal,
        );
        for await (const chunk of stream) {
          const delta = chunk.choices[0]?.delta;
          if (delta?.tool_calls) {
            started = true;
            calls.add(delta.tool_calls);
          }
          if (!delta?.content) continue;
          started = true;
          yield delta.content;
        }
        return calls.done();
      } catch (error) {
        if (signal.aborted) return [];
        const failure = failed(error, llm.name);
        // Once words are out, another LLM cannot take the reply over.
        if (started || index === llms.length - 1) throw failure;
      }
    }
    return [];
  }

  return {
    async *streamReply(messages, signal, toolbox) {
      requireConfigured();
      const conversation: ChatCompletionMessageParam[] = [...messages];
      const tools = toolbox?.specs.length ? toolbox.specs.map(openaiTool) : undefined;
      for (let round = 0; ; round++) {
        let words = '';
        const lastRound = round === MAX_TOOL_STEPS;
        const rounds = streamRound(conversation, tools, lastRound, signal);
        let next = await rounds.next();
        for (; !next.done; next = await rounds.next()) {
          words += next.value;
          yield next.value;
        }
        const calls = next.value;
        if (calls.length === 0 || !toolbox || signal.aborted) return;
        // The last round asks for words only: a provider that sends tool calls anyway is not obeyed.
        if (lastRound) {
          if (words) return;
          throw apiError(
            502,
            'llm_request_rejected',
            `The language model asked for tools again after ${MAX_TOOL_STEPS} rounds instead of answering.`,
          );
        }
        conversation.push({ role: 'assistant', content: words || null, tool_calls: calls });
        const outcomes = await Promise.all(
          calls.map((call) =>
            toolbox.run(call.function.name, parseArguments(call), call.id, signal),
          ),
        ).catch((error: unknown) => {
          // A turn cut off while its tools ran ends quietly, as one cut off while the LLM spoke.
          if (signal.aborted) return [];
          throw error;
        });
        if (signal.aborted) return;
        for (const [index, call] of calls.entries()) {
          const outcome = outcomes[index];
          if (!outcome) continue;
          conversation.push({
            role: 'tool',
            tool_call_id: call.id,
            content: outcome.ok
              ? outcome.output
              : failureForLlm(call.function.name, outcome.message),
          });
        }
      }
    },
    async listModels(signal) {
      requireConfigured();
      try {
        return await request(async () => {
          const models = [];
          for await (const model of first.client.models.list({ signal })) {
            models.push({ id: model.id, owned_by: model.owned_by });
          }
          return models;
        }, signal);
      } catch (error) {
        throw failed(error);
      }
    },
  };
}

/** The OpenAI client's failure as the API's provider failure: retryable or not, and its wait. */
function asProviderError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof OpenAI.APIError && error.status !== undefined) {
    return providerErrorOf('llm', error.status, error.headers ?? new Headers(), error);
  }
  // No answer: a connection error or a timeout.
  const reason = error instanceof OpenAI.APIConnectionTimeoutError ? 'timeout' : 'network';
  return new ProviderError('llm', `The llm request failed (${reason}).`, {
    retryable: true,
    cause: error,
  });
}

type ToolCall = ChatCompletionMessageFunctionToolCall;
type ToolCallDelta = NonNullable<
  OpenAI.ChatCompletionChunk['choices'][number]['delta']['tool_calls']
>[number];

/** The tool calls of a streamed answer, put together from their deltas (by index). */
class ToolCalls {
  #calls: ToolCall[] = [];

  add(deltas: ToolCallDelta[]) {
    for (const delta of deltas) {
      this.#calls[delta.index] ??= {
        id: '',
        type: 'function',
        function: { name: '', arguments: '' },
      };
      const call = this.#calls[delta.index] as ToolCall;
      if (delta.id) call.id = delta.id;
      call.function.name += delta.function?.name ?? '';
      call.function.arguments += delta.function?.arguments ?? '';
    }
  }

  done(): ToolCall[] {
    return this.#calls.filter((call) => call.function.name !== '');
  }
}

const openaiTool = (spec: ToolSpec): ChatCompletionTool => ({
  type: 'function',
  function: { name: spec.name, description: spec.description, parameters: spec.parameters },
});

/** The call's arguments; what is not a JSON object is refused by the toolbox. */
function parseArguments(call: ToolCall): unknown {
  try {
    return JSON.parse(call.function.arguments || '{}');
  } catch {
    return call.function.arguments;
  }
}
