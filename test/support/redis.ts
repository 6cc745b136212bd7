/**
 * A throwaway redis-server for tests: Debian's `redis-server` (installed by `.ci/run`) on a free
 * loopback port, its data in a temporary directory (an append-only file, so a restart keeps it),
 * stopped and deleted by `stop()`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Redis } from 'ioredis';
import { freePort } from './harness.js';

export interface TestRedis {
  url: string;
  /** A connection for tests to look at or set keys. */
  client: Redis;
  /** Empties the database between tests. */
  flush(): Promise<void>;
  /** Stops the server (SIGTERM: it writes its data out); `start()` brings it back on the same port. */
  halt(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';

/**
 * Resolves once the server says it accepts connections; its output is read on (and dropped), so
 * the pipe stays open and never fills.
 */
function ready(stdout: Readable): Promise<void> {
  let seen = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      seen += String(chunk);
      if (!seen.includes('Ready to accept connections')) return;
      stdout.off('data', onData);
      stdout.resume();
      resolve();
    };
    stdout.on('data', onData);
    stdout.once('end', () =>
      reject(new Error(`${REDIS_SERVER} closed its output before it was ready`)),
    );
  });
}

async function launch(port: number, dir: string): Promise<ChildProcess> {
  const server = spawn(
    REDIS_SERVER,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'yes',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    await Promise.race([
      ready(server.stdout as Readable),
      once(server, 'error').then(([error]) => {
        throw new Error(`${REDIS_SERVER} could not start (apt-get install redis-server): ${error}`);
      }),
      once(server, 'exit').then(([code]) => {
        throw new Error(`${REDIS_SERVER} exited with ${code} before it was ready`);
      }),
    ]);
  } catch (error) {
    server.kill('SIGKILL');
    throw error;
  }
  return server;
}

async function halt(server: ChildProcess | undefined): Promise<void> {
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const exited = once(server, 'exit');
  server.kill('SIGTERM');
  await exited;
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'test-redis-'));
  let server: ChildProcess | undefined = await launch(port, dir);
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url);
  client.on('error', () => {}); // reconnects by itself after a restart
  return {
    url,
    client,
    async flush() {
      await client.flushdb();
    },
    async halt() {
      await halt(server);
      server = undefined;
    },
    async start() {
      server ??= await launch(port, dir);
    },
    async stop() {
      client.disconnect();
      await halt(server);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
