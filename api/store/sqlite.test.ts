/**
 * The SQLite store on a real file in a temporary directory, against the store contract. Opening
 * the file (one process, migrations) is tested in sqlite-database.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { openSqliteStore } from './sqlite.js';
import { describeSessionStore } from './store-contract.js';

describe('the SQLite store', () => {
  let dataDir: string;
  describeSessionStore({
    async setUp() {
      dataDir = mkdtempSync(join(tmpdir(), 'sqlite-store-'));
    },
    open: (clock) => openSqliteStore({ dataDir, clock }),
    async tearDown() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
});
