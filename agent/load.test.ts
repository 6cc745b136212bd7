import { describe, expect, it } from 'vitest';
import { createLoadMonitor, MAX_REPORTED_LOAD } from './load.js';

describe('createLoadMonitor', () => {
  it('reports CPU use between 0 and just under 1, even when the CPU is saturated', async () => {
    const load = createLoadMonitor();
    const until = Date.now() + 200;
    while (Date.now() < until) Math.sqrt(Math.random());
    const busy = await load({ activeJobs: [] });
    expect(busy).toBeGreaterThan(0);
    expect(busy).toBeLessThanOrEqual(MAX_REPORTED_LOAD);
  });

  it('reports calls against AGENT_MAX_CALLS when set: full (1) at the capacity', async () => {
    const load = createLoadMonitor(4);
    const running = (calls: number) => ({ activeJobs: Array(calls).fill({}) });
    expect(await load(running(0))).toBe(0);
    expect(await load(running(1))).toBe(0.25);
    expect(await load(running(4))).toBe(1);
    expect(await load(running(6))).toBe(1);
  });
});
