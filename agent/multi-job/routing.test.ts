import { describe, expect, it } from 'vitest';
import { needsSpareProcess, type ProcessSlots, pickProcess, surplusProcesses } from './routing.js';

const proc = (name: string, running: number, more: Partial<ProcessSlots> = {}) => ({
  name,
  running,
  capacity: 4,
  accepting: true,
  ready: true,
  ...more,
});
const names = (processes: { name: string }[]) => processes.map((p) => p.name);
const warm = { keepWarm: true };
const cold = { keepWarm: false };

describe('pickProcess', () => {
  it('packs calls into the fullest process with room, the oldest among equals', () => {
    expect(pickProcess([proc('a', 1), proc('b', 3), proc('c', 3)])?.name).toBe('b');
    expect(pickProcess([proc('a', 0), proc('b', 0)])?.name).toBe('a');
  });

  it('skips full and retired processes, and counts a starting one', () => {
    expect(pickProcess([proc('a', 4), proc('b', 3, { accepting: false })])).toBeUndefined();
    expect(pickProcess([proc('a', 4), proc('b', 1, { ready: false })])?.name).toBe('b');
  });
});

describe('needsSpareProcess', () => {
  it('starts one when prewarming is on and no process has a free slot', () => {
    expect(needsSpareProcess([], warm)).toBe(true);
    expect(needsSpareProcess([proc('a', 4), proc('b', 2, { accepting: false })], warm)).toBe(true);
    expect(needsSpareProcess([proc('a', 4), proc('b', 0, { ready: false })], warm)).toBe(false);
    expect(needsSpareProcess([proc('a', 4)], cold)).toBe(false);
  });
});

describe('surplusProcesses', () => {
  it('keeps one idle process as the spare when no busy process has room', () => {
    expect(names(surplusProcesses([proc('a', 4), proc('b', 0), proc('c', 0)], warm))).toEqual([
      'c',
    ]);
    expect(names(surplusProcesses([proc('a', 2), proc('b', 0)], warm))).toEqual(['b']);
    expect(names(surplusProcesses([proc('a', 0)], warm))).toEqual([]);
  });

  it('stops every idle process without prewarming, never a starting or busy one', () => {
    expect(names(surplusProcesses([proc('a', 0), proc('b', 1)], cold))).toEqual(['a']);
    expect(names(surplusProcesses([proc('a', 0, { ready: false })], cold))).toEqual([]);
  });

  it('stops a retired process once its calls are over', () => {
    const retired = { accepting: false };
    expect(names(surplusProcesses([proc('a', 0, retired), proc('b', 0)], warm))).toEqual(['a']);
    expect(names(surplusProcesses([proc('a', 1, retired)], warm))).toEqual([]);
  });
});
