/**
 * The stack's processes seen through /proc: which job processes of the worker are in a call.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { TestStack } from './harness.js';

/** The processes `pid` forked. */
export function childrenOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((task) =>
    readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8')
      .split(' ')
      .filter(Boolean)
      .map(Number),
  );
}

/** Inodes of this machine's established TCP connections to `port`. */
function connectionsTo(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const row of readFileSync(table, 'utf8').trim().split('\n').slice(1)) {
      const [, , remote, state, , , , , , inode] = row.trim().split(/\s+/);
      if (state === '01' && Number.parseInt(remote?.split(':')[1] ?? '', 16) === port && inode) {
        inodes.add(inode);
      }
    }
  }
  return inodes;
}

/** The inode of the socket that file descriptor `fd` of `pid` is, if it is one and still open. */
function socketInode(pid: number, fd: string): string | undefined {
  try {
    return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
  } catch {
    return undefined;
  }
}

/** The worker's job processes in a call: connected to LiveKit (idle ones are not). */
export function jobProcessesInCalls(stack: TestStack): number[] {
  const worker = stack.pid('agent');
  if (!worker) throw new Error('the agent worker is not running');
  const sockets = connectionsTo(stack.ports.livekit);
  return childrenOf(worker).filter((pid) =>
    readdirSync(`/proc/${pid}/fd`).some((fd) => sockets.has(socketInode(pid, fd) ?? '')),
  );
}
