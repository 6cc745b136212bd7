/** Polls `GET /health` every 10 s: whether the API answers, LiveKit is reachable, providers are set. */
import { useEffect, useState } from 'react';
import type { HealthResponse } from '../../../common/protocol';

const POLL_MS = 10_000;
const TIMEOUT_MS = 5_000;

export type HealthCheck =
  | { api: 'checking' }
  | { api: 'unreachable'; checkedAt: Date }
  | { api: 'reachable'; health: HealthResponse; checkedAt: Date };

export function useHealth(): HealthCheck {
  const [check, setCheck] = useState<HealthCheck>({ api: 'checking' });

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const controller = new AbortController();
    const poll = async () => {
      try {
        const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(TIMEOUT_MS)]);
        const response = await fetch('/health', { signal });
        if (!response.ok) throw new Error(`health answered ${response.status}`);
        const health = (await response.json()) as HealthResponse;
        setCheck({ api: 'reachable', health, checkedAt: new Date() });
      } catch {
        if (controller.signal.aborted) return;
        setCheck({ api: 'unreachable', checkedAt: new Date() });
      }
      timer = setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, []);

  return check;
}
