/** `cacheUpstream`: one upstream call per lifetime, shared while in flight, failures kept shorter. */
import { describe, expect, it } from 'vitest';
import { cacheUpstream } from './upstream-cache.js';

function upstream<T>(answers: (() => Promise<T>)[]) {
  let calls = 0;
  const call = () => {
    const answer = answers[Math.min(calls, answers.length - 1)];
    calls++;
    return answer ? answer() : Promise.reject(new Error('no answer'));
  };
  return { call, calls: () => calls };
}

describe('cacheUpstream', () => {
  it('asks once per lifetime, and again after it', async () => {
    let now = 0;
    const { call, calls } = upstream([async () => 'a', async () => 'b']);
    const cached = cacheUpstream(call, { ttlMs: 5000, failureTtlMs: 1000, now: () => now });
    expect(await Promise.all([cached(), cached(), cached()])).toStrictEqual(['a', 'a', 'a']);
    now = 4999;
    expect(await cached()).toBe('a');
    expect(calls()).toBe(1);
    now = 5000;
    expect(await cached()).toBe('b');
    expect(calls()).toBe(2);
  });

  it('shares a call in flight, however long it takes', async () => {
    let now = 0;
    let finish: (value: string) => void = () => {};
    const { call, calls } = upstream([() => new Promise<string>((resolve) => (finish = resolve))]);
    const cached = cacheUpstream(call, { ttlMs: 10, failureTtlMs: 10, now: () => now });
    const first = cached();
    now = 1000;
    const second = cached();
    finish('slow');
    expect(await Promise.all([first, second])).toStrictEqual(['slow', 'slow']);
    expect(calls()).toBe(1);
  });

  it('keeps a rejection or a failed answer only for the failure lifetime', async () => {
    let now = 0;
    const refused = new Error('refused');
    const { call, calls } = upstream([
      () => Promise.reject(refused),
      async () => false,
      async () => true,
    ]);
    const cached = cacheUpstream(call, {
      ttlMs: 5000,
      failureTtlMs: 1000,
      isFailure: (ok) => !ok,
      now: () => now,
    });
    await expect(cached()).rejects.toBe(refused);
    await expect(cached()).rejects.toBe(refused);
    now = 1000;
    expect(await cached()).toBe(false);
    now = 1999;
    expect(await cached()).toBe(false);
    now = 2000;
    expect(await cached()).toBe(true);
    now = 6999;
    expect(await cached()).toBe(true);
    expect(calls()).toBe(3);
  });
});
