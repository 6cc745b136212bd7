/**
 * Which shared job process takes a new call, and which processes the pool starts or stops. Pure:
 * the pool (pool.ts) asks these with a snapshot of its processes.
 */

export interface ProcessSlots {
  /** Jobs running in the process or on their way to it. */
  readonly running: number;
  readonly capacity: number;
  /** False once the process is retired: it finishes its jobs and takes no new one. */
  readonly accepting: boolean;
  /** Initialized (prewarm done); a process still starting can hold reserved jobs but is not idle. */
  readonly ready: boolean;
}

const hasRoom = (slots: ProcessSlots) => slots.accepting && slots.running < slots.capacity;

/**
 * The fullest process that has room (the oldest among equals), so calls pack into few processes
 * and a process whose calls all ended can be stopped. Undefined when none has room.
 */
export function pickProcess<T extends ProcessSlots>(processes: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const candidate of processes) {
    if (hasRoom(candidate) && (!best || candidate.running > best.running)) best = candidate;
  }
  return best;
}

/** With prewarming on, a new process starts whenever no process has a free slot. */
export function needsSpareProcess(
  processes: readonly ProcessSlots[],
  { keepWarm }: { keepWarm: boolean },
): boolean {
  return keepWarm && !processes.some(hasRoom);
}

/**
 * Processes to stop: retired ones whose jobs have ended, and idle ones no longer needed. With
 * prewarming on, one idle process is kept when it is the only one with a free slot.
 */
export function surplusProcesses<T extends ProcessSlots>(
  processes: readonly T[],
  { keepWarm }: { keepWarm: boolean },
): T[] {
  const idle = processes.filter((p) => p.ready && p.running === 0);
  const retired = idle.filter((p) => !p.accepting);
  const spare = idle.filter((p) => p.accepting);
  const busyWithRoom = processes.some((p) => p.running > 0 && hasRoom(p));
  const kept = keepWarm && !busyWithRoom && spare.length > 0 ? 1 : 0;
  return [...retired, ...spare.slice(kept)];
}
