/**
 * The API's LLM: the same OpenAI-compatible endpoint and model as the agent, for text chat
 * without a live call and for `GET /api/models`. Its requests are retried by the API's one retry
 * policy for provider calls (`withRetries`: connection errors, timeouts, 408, 429, 5xx, honouring
 * a short Retry-After, with backoff and jitter), the OpenAI client's own retries being off; a reply
 * is retried only until its stream opens.
 * A reply that fails before its first word goes to the fallback LLM when one is configured
 * (LLM_FALLBACK_*), as the agent's does. What still fails becomes an `ApiError` with a stable code,
 * never the provider's text.
 */
import OpenAI from 'openai';
import { fallbackConfigs, openaiApiKey, type ProvidersConfig } from '../../common/config.js';
import { ApiError, apiError } from '../errors.js';
import { ProviderError } from '../providers/errors.js';
import { providerErrorOf } from '../providers/http.js';
import { DEFAULT_RETRY, type RetryPolicy, withRetries } from '../providers/retry.js';

export type ChatTurn = { role: 'system' | 'user' | 'assistant'; content: string };

export interface ChatLlm {
  /** Yields the reply as it is generated; stops (and cancels upstream) when `signal` aborts. */
  streamReply(messages: ChatTurn[], signal: AbortSignal): AsyncGenerator<string>;
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

  return {
    async *streamReply(messages, signal) {
      requireConfigured();
      for (const [index, llm] of llms.entries()) {
        let started = false;
        try {
          const stream = await request(
            () =>
              llm.client.chat.completions.create(
                { model: llm.model, messages, stream: true },
                { signal },
              ),
            signal,
          );
          for await (const chunk of stream) {
            const delta = chunk.choices[0]?.delta?.content;
            if (!delta) continue;
            started = true;
            yield delta;
          }
          return;
        } catch (error) {
          if (signal.aborted) return;
          const failure = failed(error, llm.name);
          // Once words are out, another LLM cannot take the reply over.
          if (started || index === llms.length - 1) throw failure;
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
