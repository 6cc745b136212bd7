/**
 * CPU and memory of the stack's processes, grouped by role, from /proc (Linux): the benchmark's
 * own process tree, sampled twice to turn CPU ticks into a share of one core.
 */
import { readdirSync, readFileSync } from 'node:fs';

export type Role = 'livekit' | 'api' | 'agent worker' | 'agent jobs' | 'agent inference' | 'bench';

interface ProcessSample {
  pid: number;
  ppid: number;
  role: Role;
  /** utime + stime, in clock ticks. */
  ticks: number;
  rssBytes: number;
}

export interface RoleStats {
  processes: number;
  /** Share of one core over the interval (1 = one core busy). */
  cpuCores: number;
  rssMB: number;
}

const TICKS_PER_SECOND = 100;
const PAGE_BYTES = 4096;

function read(pid: number): Omit<ProcessSample, 'role'> & { cmdline: string } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name is in parentheses and may hold spaces; fields after it are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  return {
    pid,
    ppid: Number(fields[1]),
    ticks: Number(fields[11]) + Number(fields[12]),
    rssBytes: Number(fields[21]) * PAGE_BYTES,
    cmdline,
  };
}

/** CPU time used so far and resident memory of one process; undefined once it is gone. */
export function processUsage(pid: number): { cpuMs: number; rssBytes: number } | undefined {
  try {
    const { ticks, rssBytes } = read(pid);
    return { cpuMs: (ticks * 1000) / TICKS_PER_SECOND, rssBytes };
  } catch {
    return undefined;
  }
}

function roleOf(cmdline: string): Role {
  if (cmdline.includes('livekit-server')) return 'livekit';
  // The stack runs the build: dist/api/main.js, dist/agent/main.js.
  if (cmdline.includes('api/main.js')) return 'api';
  if (cmdline.includes('agent/main.js')) return 'agent worker';
  // One process per call, or shared by several (AGENT_JOBS_PER_PROCESS, agent/multi-job/).
  if (cmdline.includes('job_proc_lazy_main') || cmdline.includes('multi-job/child-main')) {
    return 'agent jobs';
  }
  if (cmdline.includes('inference_proc_lazy_main')) return 'agent inference';
  return 'bench';
}

/** Every process descended from `rootPid` (itself included). */
export function sampleTree(rootPid = process.pid): ProcessSample[] {
  const all = new Map<number, ReturnType<typeof read>>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      all.set(pid, read(pid));
    } catch {
      // Gone between the listing and the read.
    }
  }
  const inTree = new Set([rootPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const proc of all.values()) {
      if (!inTree.has(proc.pid) && inTree.has(proc.ppid)) {
        inTree.add(proc.pid);
        grew = true;
      }
    }
  }
  return [...inTree].flatMap((pid) => {
    const proc = all.get(pid);
    if (!proc) return [];
    const { cmdline, ...sample } = proc;
    return [{ ...sample, role: roleOf(cmdline) }];
  });
}

/** CPU and RSS per role between two samples taken `seconds` apart. */
export function statsBetween(
  before: ProcessSample[],
  after: ProcessSample[],
  seconds: number,
): Partial<Record<Role, RoleStats>> {
  const earlier = new Map(before.map((proc) => [proc.pid, proc.ticks]));
  const stats: Partial<Record<Role, RoleStats>> = {};
  for (const proc of after) {
    const role = stats[proc.role] ?? { processes: 0, cpuCores: 0, rssMB: 0 };
    stats[proc.role] = role;
    role.processes += 1;
    role.cpuCores += (proc.ticks - (earlier.get(proc.pid) ?? 0)) / TICKS_PER_SECOND / seconds;
    role.rssMB += proc.rssBytes / 1024 / 1024;
  }
  return stats;
}
