/**
 * At most once per key per interval, for log lines a stranger can trigger at will (a forged
 * webhook): the first occurrence is worth a line, the thousand after it in the same minute are
 * not. The keys kept are bounded, so a flood from many addresses cannot grow memory either.
 */

export interface ThrottleOptions {
  intervalMs: number;
  /** Keys remembered at once; past this the oldest are forgotten (and may pass again early). */
  maxKeys?: number;
  now?: () => number;
}

export function oncePerInterval({
  intervalMs,
  maxKeys = 10_000,
  now = Date.now,
}: ThrottleOptions): (key: string) => boolean {
  if (!(intervalMs > 0)) throw new RangeError('intervalMs must be positive');
  if (!Number.isInteger(maxKeys) || maxKeys <= 0) throw new RangeError('maxKeys must be positive');
  /** Key → when it last passed; a Map keeps insertion order, so the first entry is the oldest. */
  const passedAt = new Map<string, number>();
  return function passes(key) {
    const at = now();
    const last = passedAt.get(key);
    if (last !== undefined && at - last < intervalMs) return false;
    passedAt.delete(key);
    passedAt.set(key, at);
    if (passedAt.size > maxKeys) passedAt.delete(passedAt.keys().next().value as string);
    return true;
  };
}
