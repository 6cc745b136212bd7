/**
 * A throwaway redis-server for tests: Debian's `redis-server` (installed by `.ci/run`) on a free
 * loopback port, keeping nothing on disk, stopped by `stop()`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { Redis } from 'ioredis';
import { freePort } from './harness.js';

export interface TestRedis {
  url: string;
  /** A connection for tests to look at or set keys. */
  client: Redis;
  /** Empties the database between tests. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';

/** Resolves once the server says it accepts connections. */
async function ready(stdout: Readable): Promise<void> {
  let seen = '';
  for await (const chunk of stdout) {
    seen += String(chunk);
    if (seen.includes('Ready to accept connections')) return;
  }
  throw new Error(`${REDIS_SERVER} closed its output before it was ready`);
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const server = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = once(server, 'exit');
  const url = `redis://127.0.0.1:${port}`;
  try {
    await Promise.race([
      ready(server.stdout),
      once(server, 'error').then(([error]) => {
        throw new Error(`${REDIS_SERVER} could not start (apt-get install redis-server): ${error}`);
      }),
      exited.then(([code]) => {
        throw new Error(`${REDIS_SERVER} exited with ${code} before it was ready`);
      }),
    ]);
  } catch (error) {
    server.kill('SIGKILL');
    throw error;
  }
  server.stdout.resume();
  const client = new Redis(url);
  return {
    url,
    client,
    async flush() {
      await client.flushdb();
    },
    async stop() {
      client.disconnect();
      if (server.exitCode === null) {
        server.kill('SIGTERM');
        await exited;
      }
    },
  };
}
