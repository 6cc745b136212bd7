import { describe, expect, it } from 'vitest';
import { ProviderError } from './errors.js';
import { withRetries } from './retry.js';

const policy = { retries: 3, baseMs: 1, maxMs: 50 };
const failure = (retryable: boolean, retryAfterMs?: number) =>
  new ProviderError('llm', 'failed', {
    retryable,
    ...(retryAfterMs !== undefined && { retryAfterMs }),
  });

/** An attempt that fails with `errors` in turn, then answers 'ok'; it counts its calls. */
function attempts(...errors: Error[]) {
  const calls: number[] = [];
  const attempt = async (attemptNumber: number) => {
    calls.push(attemptNumber);
    const error = errors[attemptNumber];
    if (error) throw error;
    return 'ok';
  };
  return { attempt, calls };
}

describe('withRetries', () => {
  it('retries retryable failures, numbering the attempts', async () => {
    const { attempt, calls } = attempts(failure(true), failure(true));
    expect(await withRetries(attempt, policy)).toBe('ok');
    expect(calls).toEqual([0, 1, 2]);
  });

  it('stops after `retries` more attempts and throws the last failure', async () => {
    const last = failure(true);
    const { attempt, calls } = attempts(failure(true), failure(true), failure(true), last);
    await expect(withRetries(attempt, policy)).rejects.toBe(last);
    expect(calls).toHaveLength(4);
  });

  it('throws a final failure or any other error at once', async () => {
    for (const error of [failure(false), new TypeError('a bug')]) {
      const { attempt, calls } = attempts(error);
      await expect(withRetries(attempt, policy)).rejects.toBe(error);
      expect(calls).toEqual([0]);
    }
  });

  it('waits a short Retry-After, and gives up at once on one longer than maxMs', async () => {
    const short = attempts(failure(true, 5));
    expect(await withRetries(short.attempt, policy)).toBe('ok');
    const long = attempts(failure(true, 60_000));
    await expect(withRetries(long.attempt, policy)).rejects.toMatchObject({ retryAfterMs: 60_000 });
    expect(long.calls).toEqual([0]);
  });

  it('stops waiting when the caller aborts', async () => {
    const controller = new AbortController();
    const { attempt, calls } = attempts(failure(true, 40));
    const result = withRetries(attempt, { ...policy, signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    await expect(result).rejects.toMatchObject({ name: 'AbortError' });
    expect(calls).toEqual([0]);
  });
});
