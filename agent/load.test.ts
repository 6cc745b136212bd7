import { describe, expect, it } from 'vitest';
import { createLoadMonitor, MAX_REPORTED_LOAD } from './load.js';

describe('createLoadMonitor', () => {
  it('reports CPU use between 0 and just under 1, even when the CPU is saturated', async () => {
    const load = createLoadMonitor();
    const until = Date.now() + 200;
    while (Date.now() < until) Math.sqrt(Math.random());
    const busy = await load();
    expect(busy).toBeGreaterThan(0);
    expect(busy).toBeLessThanOrEqual(MAX_REPORTED_LOAD);
  });
});
