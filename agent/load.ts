/**
 * The load a worker reports to LiveKit: the machine's CPU use since the last report, capped
 * below 1. LiveKit weights each worker by (1 - load) when it picks one for a call, so a worker
 * reporting exactly 1 gets none: on a busy machine with a single worker every new call would be
 * dropped. Refusing calls is the worker's own decision (AGENT_LOAD_THRESHOLD), not an accident.
 */
import { cpus } from 'node:os';

export const MAX_REPORTED_LOAD = 0.99;

const cpuTimes = () =>
  cpus().reduce(
    (sum, { times }) => {
      const total = times.user + times.nice + times.sys + times.irq + times.idle;
      return { idle: sum.idle + times.idle, total: sum.total + total };
    },
    { idle: 0, total: 0 },
  );

export function createLoadMonitor(): () => Promise<number> {
  let last = cpuTimes();
  return async () => {
    const now = cpuTimes();
    const total = now.total - last.total;
    const busy = total - (now.idle - last.idle);
    last = now;
    return total > 0 ? Math.min(MAX_REPORTED_LOAD, Math.max(0, busy / total)) : 0;
  };
}
