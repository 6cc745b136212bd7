/**
 * The embedded store's file: write-ahead logging, one process at a time (a real second process),
 * nothing left behind by a killed owner, and databases of earlier releases migrated on open.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newSession } from '../../test/support/sessions.js';
import { openSqliteStore } from './sqlite.js';
import { openDatabase } from './sqlite-database.js';

const sessionIn2030 = (sessionId: string) =>
  newSession(sessionId, { createdAt: '2030-01-01T00:00:00.000Z' });

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'sqlite-database-'));
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

/** Runs `script` (ES module text) in a child Node process; resolves once it prints `ready`. */
async function startChild(script: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk;
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => chunk.includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`child exited with ${code}: ${stderr}`)));
  });
  return child;
}

describe('openDatabase', () => {
  it('uses write-ahead logging', () => {
    const db = openDatabase(dataDir);
    try {
      expect(db.prepare('PRAGMA journal_mode').get()).toMatchObject({ journal_mode: 'wal' });
      expect(existsSync(join(dataDir, 'sessions.db-wal'))).toBe(true);
    } finally {
      db.close();
    }
  });

  it('refuses a DATA_DIR another process has open, and opens it once that process is killed', async () => {
    const storeModule = fileURLToPath(new URL('./sqlite.ts', import.meta.url));
    const child = await startChild(`
      const { openSqliteStore } = await import(${JSON.stringify(storeModule)});
      const store = await openSqliteStore({ dataDir: ${JSON.stringify(dataDir)} });
      await store.createSession(${JSON.stringify(sessionIn2030('s1'))});
      await store.appendEvents('s1', [{ event_type: 'user_speaking', timestamp: 'last words' }]);
      console.log('ready');
      setInterval(() => {}, 1000);`);

    expect(() => openDatabase(dataDir)).toThrow(
      `DATA_DIR ${dataDir} is in use: another API process has ${join(dataDir, 'sessions.db')} open`,
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    // The killed owner's lock went with it; its commits are in the log it left.
    expect(readdirSync(dataDir).sort()).toStrictEqual(['sessions.db', 'sessions.db-wal']);

    const store = await openSqliteStore({ dataDir });
    try {
      const events = await store.readEvents('s1', 0, 10);
      expect(events.map((event) => event.timestamp)).toStrictEqual(['last words']);
    } finally {
      await store.close();
    }
  });

  it('refuses a second open of the same DATA_DIR in this process while the first is open', () => {
    const db = openDatabase(dataDir);
    try {
      expect(() => openDatabase(dataDir)).toThrow(`DATA_DIR ${dataDir} is in use`);
      expect(db.prepare('SELECT 1 AS ok').get()).toMatchObject({ ok: 1 });
    } finally {
      db.close();
    }
  });
});

/** The schema as the releases before versioned migrations created it (user_version 0). */
const UNVERSIONED_SCHEMA = `
  CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY,
    room_name TEXT NOT NULL,
    participant_identity TEXT NOT NULL,
    user_id TEXT,
    username TEXT,
    instructions TEXT,
    created_at TEXT NOT NULL,
    last_activity_at TEXT NOT NULL,
    ended_at TEXT,
    state TEXT NOT NULL,
    live INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE IF NOT EXISTS events (
    session_id TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS events_by_type ON events (session_id, event_type, seq);
  CREATE INDEX IF NOT EXISTS sessions_open ON sessions (last_activity_at) WHERE ended_at IS NULL;
  INSERT INTO sessions VALUES ('old', 'session-old', 'user-old', NULL, NULL, NULL,
    '2030-01-01T00:00:00.000Z', '2030-01-01T00:00:05.000Z', NULL, 'processing', 1);
  INSERT INTO events VALUES ('old', 1, 'conversation_item', '2030-01-01T00:00:05.000Z',
    '{"role":"user","text":"from before","source":"voice","item_id":"i1"}');`;

/** The later unversioned releases added the owner column on open. */
const WITH_OWNER = `ALTER TABLE sessions ADD COLUMN owner TEXT;
  CREATE INDEX IF NOT EXISTS sessions_open_by_owner
    ON sessions (owner, ended_at, last_activity_at) WHERE owner IS NOT NULL;
  INSERT INTO sessions VALUES ('owned', 'session-owned', 'user-owned', NULL, NULL, NULL,
    '2030-01-01T00:00:00.000Z', '2030-01-01T00:00:00.000Z', NULL, 'idle', 0, 'key:k1');`;

function createDatabase(sql: string) {
  const db = new DatabaseSync(join(dataDir, 'sessions.db'));
  db.exec(sql);
  db.close();
}

function schemaOf() {
  const db = new DatabaseSync(join(dataDir, 'sessions.db'));
  try {
    return {
      version: db.prepare('PRAGMA user_version').get()?.user_version,
      columns: db
        .prepare('PRAGMA table_info(sessions)')
        .all()
        .map((column) => column.name),
      indexes: db
        .prepare(`SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL`)
        .all()
        .map((index) => index.name)
        .sort(),
    };
  } finally {
    db.close();
  }
}

describe('migrations', () => {
  const current = {
    version: 3,
    columns: expect.arrayContaining(['session_id', 'live', 'owner', 'tools']),
    indexes: ['events_by_type', 'sessions_ended', 'sessions_open', 'sessions_open_by_owner'],
  };

  it('create the current schema in a new DATA_DIR', async () => {
    await (await openSqliteStore({ dataDir })).close();
    expect(schemaOf()).toStrictEqual(current);
  });

  it.each([
    ['before sessions had an owner', UNVERSIONED_SCHEMA],
    ['with the owner column', UNVERSIONED_SCHEMA + WITH_OWNER],
  ])(
    'bring a database of the unversioned releases (%s) up to date, keeping its data',
    async (_, sql) => {
      createDatabase(sql);

      const store = await openSqliteStore({ dataDir });
      try {
        expect(await store.getSession('old')).toMatchObject({
          state: 'processing',
          live: true,
          tools: null,
        });
        expect((await store.readConversation('old')).map((item) => item.text)).toStrictEqual([
          'from before',
        ]);
        const limit = { max: 1, activeSince: '2029-01-01T00:00:00.000Z' };
        await store.createSession({ ...sessionIn2030('new'), owner: 'key:k2' }, limit);
        await expect(
          store.createSession({ ...sessionIn2030('newer'), owner: 'key:k2' }, limit),
        ).rejects.toThrow(/open sessions/);
      } finally {
        await store.close();
      }
      expect(schemaOf()).toStrictEqual(current);
    },
  );

  it('run once: a reopened database is left as it is', async () => {
    await (await openSqliteStore({ dataDir })).close();
    const store = await openSqliteStore({ dataDir });
    await store.close();
    expect(schemaOf()).toStrictEqual(current);
  });

  it('refuse a database of a newer release, naming the file', () => {
    createDatabase('PRAGMA user_version = 99');
    expect(() => openDatabase(dataDir)).toThrow(
      `${join(dataDir, 'sessions.db')} has schema version 99, newer than this release's 3`,
    );
  });
});
