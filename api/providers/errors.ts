/**
 * Failures of the speech and language providers, typed so callers can decide whether another
 * attempt may succeed. Messages are ours: a provider's own error text never reaches a client.
 */
import { type ApiError, apiError } from '../errors.js';

export type ProviderStage = 'stt' | 'llm' | 'tts';

export interface ProviderErrorDetails {
  status?: number;
  retryable: boolean;
  /** How long the provider asked us to wait (its Retry-After), when it said. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class ProviderError extends Error {
  override name = 'ProviderError';
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(
    readonly stage: ProviderStage,
    message: string,
    details: ProviderErrorDetails,
  ) {
    super(message, { cause: details.cause });
    this.status = details.status;
    this.retryable = details.retryable;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/**
 * Timeouts, conflicts (OpenAI's lock timeout), rate limits and server errors pass; any other 4xx
 * fails the same way again.
 */
export const isRetryableStatus = (status: number) =>
  status === 408 || status === 409 || status === 429 || status === 499 || status >= 500;

const stageNames: Record<ProviderStage, string> = {
  stt: 'speech-to-text',
  llm: 'language model',
  tts: 'text-to-speech',
};

/**
 * The client's view of a provider failure: `<stage>_request_rejected` (502) when the request
 * itself was refused (model, key), `<stage>_unavailable` (503) when trying later may work.
 */
export function providerApiError(error: ProviderError): ApiError {
  const name = stageNames[error.stage];
  if (error.retryable) {
    return apiError(503, `${error.stage}_unavailable`, `The ${name} service is unavailable.`);
  }
  return apiError(
    502,
    `${error.stage}_request_rejected`,
    `The ${name} service rejected the request; check its model and API key.`,
  );
}
