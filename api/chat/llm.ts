/**
 * The API's LLM: the same OpenAI-compatible endpoint and model as the agent, for text chat
 * without a live call and for `GET /api/models`. The OpenAI client retries what is worth retrying
 * (connection errors, 408, 409, 429, 5xx, honouring Retry-After) with backoff, and nothing else.
 * A reply that fails before its first word goes to the fallback LLM when one is configured
 * (LLM_FALLBACK_*), as the agent's does. What still fails becomes an `ApiError` with a stable code,
 * never the provider's text.
 */
import OpenAI from 'openai';
import { fallbackConfigs, openaiApiKey, type ProvidersConfig } from '../../common/config.js';
import { ApiError, apiError } from '../errors.js';

export type ChatTurn = { role: 'system' | 'user' | 'assistant'; content: string };

export interface ChatLlm {
  /** Yields the reply as it is generated; stops (and cancels upstream) when `signal` aborts. */
  streamReply(messages: ChatTurn[], signal: AbortSignal): AsyncGenerator<string>;
  listModels(signal: AbortSignal): Promise<{ id: string; owned_by: string }[]>;
}

export interface ChatLlmOptions {
  retries?: number;
  timeoutMs?: number;
  log?: (details: object, message: string) => void;
}

export function createChatLlm(config: ProvidersConfig, options: ChatLlmOptions = {}): ChatLlm {
  const openaiClient = (stage: ProvidersConfig) =>
    new OpenAI({
      apiKey: openaiApiKey(stage),
      ...(stage.LLM_BASE_URL !== undefined && { baseURL: stage.LLM_BASE_URL }),
      maxRetries: options.retries ?? 2,
      timeout: options.timeoutMs ?? 30_000,
    });
  const first = { client: openaiClient(config), model: config.LLM_MODEL, name: 'first' };
  const fallback = fallbackConfigs(config).llm;
  /** The LLMs a reply is asked of, in order. */
  const llms = fallback
    ? [first, { client: openaiClient(fallback), model: fallback.LLM_MODEL, name: 'fallback' }]
    : [first];
  const failed = (error: unknown, llm = 'first'): ApiError => {
    if (error instanceof ApiError) return error;
    const status = error instanceof OpenAI.APIError ? error.status : undefined;
    options.log?.({ llm, status, kind: (error as Error)?.name }, 'LLM request failed');
    // A 4xx other than the retryable ones is the request's fault (model, key): retrying or
    // waiting will not help, so it is not "unavailable".
    if (
      status !== undefined &&
      status >= 400 &&
      status < 500 &&
      ![408, 409, 429].includes(status)
    ) {
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
          const stream = await llm.client.chat.completions.create(
            { model: llm.model, messages, stream: true },
            { signal },
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
        const models = [];
        for await (const model of first.client.models.list({ signal })) {
          models.push({ id: model.id, owned_by: model.owned_by });
        }
        return models;
      } catch (error) {
        throw failed(error);
      }
    },
  };
}
