/**
 * HTTP calls to a provider: a timeout per attempt and the retry policy around them. Every failure
 * becomes a `ProviderError`; a provider's error body is discarded unread and logged by status
 * only, so its text can reach neither a client nor the logs.
 */
import type { z } from 'zod';
import { isRetryableStatus, ProviderError, type ProviderStage } from './errors.js';
import { DEFAULT_RETRY, type RetryPolicy, withRetries } from './retry.js';

export interface ProviderClientOptions {
  fetch?: typeof fetch;
  /** Per attempt, reading the answer included. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  log?: (details: object, message: string) => void;
}

/** Sends `init` to `url` and reads the answer with `read`, retrying what is worth retrying. */
export type ProviderCall = <T>(
  url: string,
  init: RequestInit,
  read: (response: Response) => Promise<T>,
  signal?: AbortSignal,
) => Promise<T>;

const DEFAULT_TIMEOUT_MS = 30_000;

export function createProviderCall(
  stage: ProviderStage,
  options: ProviderClientOptions = {},
): ProviderCall {
  const fetchProvider = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const log = options.log ?? (() => {});

  const rejection = async (response: Response) => {
    await response.body?.cancel();
    const { status } = response;
    log({ stage, status }, 'provider request failed');
    return providerErrorOf(stage, status, response.headers);
  };

  const attempt = async <T>(
    url: string,
    init: RequestInit,
    read: (response: Response) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> => {
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      const response = await fetchProvider(url, {
        ...init,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      if (!response.ok) throw await rejection(response);
      return await read(response);
    } catch (error) {
      if (error instanceof ProviderError) throw error;
      // The caller gave up: not the provider's failure, and nothing to retry.
      if (signal?.aborted) throw signal.reason;
      const reason = timeout.aborted ? 'timeout' : 'network';
      log({ stage, reason }, 'provider request failed');
      throw new ProviderError(stage, `The ${stage} request failed (${reason}).`, {
        retryable: true,
        cause: error,
      });
    }
  };

  return (url, init, read, signal) =>
    withRetries(() => attempt(url, init, read, signal), { ...retry, signal });
}

/** A provider's refusal (an HTTP status) as a `ProviderError`, retryable or not. */
export function providerErrorOf(
  stage: ProviderStage,
  status: number,
  headers: Headers,
  cause?: unknown,
): ProviderError {
  return new ProviderError(stage, `The ${stage} provider answered ${status}.`, {
    status,
    retryable: isRetryableStatus(status),
    retryAfterMs: retryAfterMs(headers),
    cause,
  });
}

/** Reads a JSON answer of the expected shape; another shape is the provider's bug: no retry. */
export function readJson<T>(stage: ProviderStage, schema: z.ZodType<T>) {
  return async (response: Response): Promise<T> => {
    const parsed = schema.safeParse(await response.json());
    if (parsed.success) return parsed.data;
    throw new ProviderError(stage, `The ${stage} provider sent an answer of another shape.`, {
      status: response.status,
      retryable: false,
    });
  };
}

/** OpenAI's `retry-after-ms`, or the standard Retry-After in seconds or as an HTTP date. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const milliseconds = headers.get('retry-after-ms');
  if (milliseconds !== null && /^\d+(\.\d+)?$/.test(milliseconds)) return Number(milliseconds);
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
