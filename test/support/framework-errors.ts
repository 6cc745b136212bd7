/**
 * The agents framework runs each provider stream as a task nobody awaits: a stream that fails for
 * good reports the failure as an `error` event and also leaves a rejected promise behind. The job
 * process logs those at debug level; a unit test would count them as its own failures. Call this
 * at the top of a `describe` that drives provider streams directly.
 */
import { isAPIError } from '@livekit/agents';
import { afterAll, beforeAll } from 'vitest';

export function tolerateProviderStreamRejections(): void {
  const listeners = process.listeners('unhandledRejection');
  const ignoreProviderErrors = (reason: unknown, promise: Promise<unknown>) => {
    if (isAPIError(reason)) return;
    for (const listener of listeners) listener(reason, promise);
  };
  beforeAll(() => {
    process.removeAllListeners('unhandledRejection');
    process.on('unhandledRejection', ignoreProviderErrors);
  });
  afterAll(async () => {
    // The last stream's rejection lands a moment after the test that caused it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    process.off('unhandledRejection', ignoreProviderErrors);
    for (const listener of listeners) process.on('unhandledRejection', listener);
  });
}
