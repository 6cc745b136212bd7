/**
 * A short memo of an upstream's answer (LiveKit's reachability, the LLM endpoint's model list) for
 * endpoints anyone may call: however many requests come, the upstream gets at most one call per
 * lifetime. Requests that arrive while a call is in flight share it; a success is kept `ttlMs`, a
 * failure (a rejection, or a value `isFailure` calls one) only `failureTtlMs`, so a recovered
 * upstream shows soon.
 */

export interface UpstreamCacheOptions<T> {
  ttlMs: number;
  failureTtlMs: number;
  /** An answer that reports a failure without throwing (`reachable: false`). */
  isFailure?: (value: T) => boolean;
  now?: () => number;
}

export function cacheUpstream<T>(
  call: () => Promise<T>,
  { ttlMs, failureTtlMs, isFailure = () => false, now = Date.now }: UpstreamCacheOptions<T>,
): () => Promise<T> {
  if (!(ttlMs >= 0 && failureTtlMs >= 0)) throw new RangeError('lifetimes must be 0 or more');
  let cached: { answer: Promise<T>; expiresAt: number } | undefined;

  return function cachedUpstreamCall() {
    if (cached && now() < cached.expiresAt) return cached.answer;
    // In flight until it settles: every request meanwhile shares this call.
    const entry = { answer: call(), expiresAt: Number.POSITIVE_INFINITY };
    cached = entry;
    entry.answer.then(
      (value) => {
        entry.expiresAt = now() + (isFailure(value) ? failureTtlMs : ttlMs);
      },
      () => {
        entry.expiresAt = now() + failureTtlMs;
      },
    );
    return entry.answer;
  };
}
