/**
 * The embedded store's file, `${dataDir}/sessions.db`: opened by one process only, with its schema
 * brought up to date. SQLite is Node's built-in `node:sqlite` (native, nothing to build; Node 22
 * prints one ExperimentalWarning when it loads, Node 24 none).
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { migrateDatabase } from './sqlite-migrations.js';

/** SQLITE_BUSY and SQLITE_LOCKED: another connection holds the file. */
const LOCKED_CODES = new Set([5, 6]);

/**
 * One API process per DATA_DIR: the store fans out new events in-process, so a second process on
 * the same file would append events that the first one's subscribers never see. The connection
 * keeps an exclusive lock from its first write to its close (WAL without shared memory); the lock
 * is the operating system's, so it dies with the process and a killed owner leaves nothing behind.
 * WAL with synchronous=NORMAL fsyncs at checkpoints, not on every commit: a process crash loses
 * nothing, a power cut at most the last commits.
 */
export function openDatabase(dataDir: string): DatabaseSync {
  mkdirSync(dataDir, { recursive: true });
  const file = resolve(dataDir, 'sessions.db');
  const db = new DatabaseSync(file);
  try {
    db.exec(`PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;`);
    migrateDatabase(db, file);
    return db;
  } catch (error) {
    db.close();
    if (LOCKED_CODES.has((error as { errcode?: number }).errcode ?? 0)) {
      throw new Error(
        `DATA_DIR ${dataDir} is in use: another API process has ${file} open (one API process per DATA_DIR)`,
        { cause: error },
      );
    }
    throw error;
  }
}
