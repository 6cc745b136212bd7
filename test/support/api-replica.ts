/**
 * Another API process beside a test stack's (its environment, so the same Redis and LiveKit,
 * with `env` on top), on a port of its own, logging to the stack's log directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { BUILD_DIR } from '../../common/paths.js';
import { freePort, type TestStack } from './harness.js';

export interface ApiReplica {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function startApiReplica(
  stack: TestStack,
  name: string,
  env: NodeJS.ProcessEnv = {},
): Promise<ApiReplica> {
  const port = await freePort();
  const log = createWriteStream(join(stack.logDir, `${name}.log`));
  const child = spawn(process.execPath, [join(BUILD_DIR, 'api', 'main.js')], {
    env: { ...stack.serviceEnv, ...env, API_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 15_000; ; ) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    const healthy = await fetch(`${url}/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) break;
    if (Date.now() > deadline) throw new Error(`${name} did not answer /health in 15 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    port,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }
      log.end();
    },
  };
}
