/**
 * The load a worker reports to LiveKit, which weights each worker by (1 - load) when it picks one
 * for a call and sends none to a worker at or over its threshold (AGENT_LOAD_THRESHOLD, 1 by
 * default):
 * - with AGENT_MAX_CALLS set, its calls against that capacity: predictable, the same on every
 *   machine for a figure measured once (`npm run bench -- --only capacity`), and full exactly at
 *   the capacity;
 * - otherwise the machine's CPU use since the last report, capped below 1: a worker reporting
 *   exactly 1 gets no call, and on a busy machine with a single worker every new call would be
 *   dropped. Refusing calls is the worker's own decision (the threshold), not an accident.
 */
import { cpus } from 'node:os';
import type { AgentServer } from '@livekit/agents';

export const MAX_REPORTED_LOAD = 0.99;

const cpuTimes = () =>
  cpus().reduce(
    (sum, { times }) => {
      const total = times.user + times.nice + times.sys + times.irq + times.idle;
      return { idle: sum.idle + times.idle, total: sum.total + total };
    },
    { idle: 0, total: 0 },
  );

/** The calls a worker is running; its `activeJobs`, the shared job processes' included. */
type CallCounter = Pick<AgentServer, 'activeJobs'>;

export function createLoadMonitor(maxCalls = 0): (server: CallCounter) => Promise<number> {
  if (maxCalls > 0) return async (server) => Math.min(1, server.activeJobs.length / maxCalls);
  let last = cpuTimes();
  return async () => {
    const now = cpuTimes();
    const total = now.total - last.total;
    const busy = total - (now.idle - last.idle);
    last = now;
    return total > 0 ? Math.min(MAX_REPORTED_LOAD, Math.max(0, busy / total)) : 0;
  };
}
