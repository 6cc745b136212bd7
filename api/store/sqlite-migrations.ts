/**
 * The embedded store's schema, as an ordered list of migrations: migration n takes a database from
 * `PRAGMA user_version` n - 1 to n, once, in its own transaction, so a database of any earlier
 * release opens with the schema this code reads.
 */
import type { DatabaseSync } from 'node:sqlite';

type Migration = (db: DatabaseSync) => void;

const MIGRATIONS: readonly Migration[] = [
  // 1: the schema as it stood before it had a version. A database of those releases is at version
  // 0 with its tables there, maybe from before sessions had an owner: those sessions keep none and
  // count against no one's cap on open sessions.
  (db) => {
    db.exec(`
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
      -- A session's events of one type, in order: its transcript without the rest of its log.
      CREATE INDEX IF NOT EXISTS events_by_type ON events (session_id, event_type, seq);
      CREATE INDEX IF NOT EXISTS sessions_open ON sessions (last_activity_at) WHERE ended_at IS NULL;`);
    const columns = db.prepare('PRAGMA table_info(sessions)').all();
    if (!columns.some((column) => column.name === 'owner')) {
      db.exec('ALTER TABLE sessions ADD COLUMN owner TEXT');
    }
    db.exec(`CREATE INDEX IF NOT EXISTS sessions_open_by_owner
      ON sessions (owner, ended_at, last_activity_at) WHERE owner IS NOT NULL`);
  },
  // 2: the retention sweep finds ended sessions by the time they ended.
  (db) => db.exec('CREATE INDEX sessions_ended ON sessions (ended_at) WHERE ended_at IS NOT NULL'),
  // 3: a session's own HTTP tools, as JSON.
  (db) => db.exec('ALTER TABLE sessions ADD COLUMN tools TEXT'),
];

/** Runs the migrations the database has not had yet. Each commits on its own. */
export function migrateDatabase(db: DatabaseSync, file: string) {
  for (;;) {
    // Also the first write of the connection: in exclusive locking mode it takes the lock that
    // keeps other processes out, even when there is nothing to migrate.
    db.exec('BEGIN IMMEDIATE');
    try {
      const version = db.prepare('PRAGMA user_version').get()?.user_version as number;
      if (version > MIGRATIONS.length) {
        throw new Error(
          `${file} has schema version ${version}, newer than this release's ${MIGRATIONS.length}`,
        );
      }
      const migration = MIGRATIONS[version];
      if (migration) {
        migration(db);
        db.exec(`PRAGMA user_version = ${version + 1}`);
      }
      db.exec('COMMIT');
      if (!migration) return;
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }
}
