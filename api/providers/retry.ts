/**
 * Retries of provider calls: only failures a `ProviderError` marks retryable, with exponential
 * backoff and jitter, or after the provider's own Retry-After when that is short enough.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ProviderError } from './errors.js';

export interface RetryPolicy {
  /** Attempts after the first. */
  retries: number;
  baseMs: number;
  /** Longest wait between attempts; a longer Retry-After ends the retries. */
  maxMs: number;
}

/** Every provider call the API makes: two retries, 0.5 s doubling up to 5 s. */
export const DEFAULT_RETRY: RetryPolicy = { retries: 2, baseMs: 500, maxMs: 5_000 };

export interface RetryOptions extends RetryPolicy {
  /** Stops the waiting and the retries when the caller gives up. */
  signal?: AbortSignal;
}

/** `attempt` gets the number of the attempt, from 0. */
export async function withRetries<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  for (let attemptNumber = 0; ; attemptNumber++) {
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      const delayMs = retryDelayMs(error, attemptNumber, options);
      if (delayMs === undefined) throw error;
      await sleep(delayMs, undefined, { signal: options.signal });
    }
  }
}

function retryDelayMs(error: unknown, attemptNumber: number, options: RetryOptions) {
  const { retries, baseMs, maxMs, signal } = options;
  if (!(error instanceof ProviderError) || !error.retryable) return undefined;
  if (attemptNumber >= retries || signal?.aborted) return undefined;
  // Asked to wait longer than we would: an interactive caller is better served by failing now.
  if (error.retryAfterMs !== undefined) {
    return error.retryAfterMs <= maxMs ? error.retryAfterMs : undefined;
  }
  const ceilingMs = Math.min(maxMs, baseMs * 2 ** attemptNumber);
  // Jitter keeps clients that failed together from retrying together.
  return ceilingMs / 2 + (Math.random() * ceilingMs) / 2;
}
