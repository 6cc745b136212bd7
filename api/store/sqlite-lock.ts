/**
 * Who owns the SQLite file. node-sqlite3-wasm locks with a `<file>.lock` directory, and exclusive
 * locking mode holds it for the connection's whole life, so a process that dies without closing
 * (SIGKILL, OOM, a crash) leaves it behind and every later open would fail with "database is
 * locked". The owner's pid, kept beside it in `<file>.pid`, tells a stale lock (owner gone, or this
 * very pid reused after a container restart) from a live one, which is refused.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';

/** Files this process has open: a second open here would take over the first one's lock. */
const openFiles = new Set<string>();

export function claimDatabase(file: string, log?: Logger) {
  const lockDir = `${file}.lock`;
  const pidFile = `${file}.pid`;
  if (openFiles.has(file)) throw new Error(`${file} is already open in this process`);
  if (existsSync(lockDir)) {
    const owner = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : Number.NaN;
    if (owner > 0 && owner !== process.pid && isRunning(owner)) {
      throw new Error(`${file} is in use by process ${owner} (one API process per DATA_DIR)`);
    }
    log?.warn({ file, owner }, 'removing the lock left by a process that did not close the store');
    rmSync(lockDir, { recursive: true, force: true });
  }
  writeFileSync(pidFile, String(process.pid));
  openFiles.add(file);
  return {
    /** Call once the database is closed (which removes the lock directory itself). */
    release() {
      openFiles.delete(file);
      rmSync(pidFile, { force: true });
    },
  };
}

function isRunning(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
