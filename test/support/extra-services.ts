/**
 * Processes beside a test stack's own, for the scale-out tests: another API replica, another
 * agent worker, another livekit-server node. Each runs with the stack's environment (so the same
 * providers, keys and Redis) plus its own, on free ports, logging to `<name>.log` in the stack's
 * log directory, and is ready once its health URL answers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { BUILD_DIR } from '../../common/paths.js';
import { LIVEKIT_WEBHOOK_PATH } from '../../common/protocol.js';
import { ensureLivekitServer } from '../../scripts/livekit-server.js';
import { withWebhook } from '../../scripts/stack.js';
import { freePort, type TestStack, udpWindow } from './harness.js';

export interface ExtraService {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

async function startService(
  stack: TestStack,
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  port: number,
  healthUrl: string,
  url: string,
): Promise<ExtraService> {
  const log = createWriteStream(join(stack.logDir, `${name}.log`));
  // A process group of its own, so stopping a worker also stops its job processes.
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  for (const deadline = Date.now() + 20_000; ; ) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    const healthy = await fetch(healthUrl).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) break;
    if (Date.now() > deadline) throw new Error(`${name} did not answer ${healthUrl} in 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    port,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        process.kill(-(child.pid as number), 'SIGTERM');
        const killer = setTimeout(() => process.kill(-(child.pid as number), 'SIGKILL'), 15_000);
        await exited;
        clearTimeout(killer);
      }
      log.end();
    },
  };
}

/** Another API process on the stack's environment, with `env` on top. */
export async function startApiReplica(
  stack: TestStack,
  name: string,
  env: NodeJS.ProcessEnv = {},
): Promise<ExtraService> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [join(BUILD_DIR, 'api', 'main.js')];
  const childEnv = { ...stack.serviceEnv, ...env, API_PORT: String(port) };
  return startService(stack, name, process.execPath, args, childEnv, port, `${url}/health`, url);
}

/** Another agent worker, registering with `livekitUrl`. */
export async function startWorker(
  stack: TestStack,
  name: string,
  livekitUrl: string,
  env: NodeJS.ProcessEnv = {},
): Promise<ExtraService> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [join(BUILD_DIR, 'agent', 'main.js'), 'start'];
  const childEnv = {
    ...stack.serviceEnv,
    ...env,
    LIVEKIT_URL: livekitUrl,
    AGENT_HEALTH_PORT: String(port),
  };
  return startService(stack, name, process.execPath, args, childEnv, port, `${url}/`, url);
}

/**
 * Another livekit-server node sharing rooms with the stack's through Redis (`host:port`), with the
 * same livekit.yaml, keys and webhook to the stack's API.
 */
export async function startLivekitNode(
  stack: TestStack,
  name: string,
  redisHost: string,
): Promise<ExtraService> {
  const binary = await ensureLivekitServer(() => {});
  const [port, tcpPort] = [await freePort(), await freePort()];
  const [udpStart, udpEnd] = udpWindow();
  const { LIVEKIT_API_KEY = 'devkey', LIVEKIT_API_SECRET = '' } = stack.serviceEnv;
  const config = withWebhook(LIVEKIT_API_KEY, `${stack.apiUrl}${LIVEKIT_WEBHOOK_PATH}`);
  const args = ['--config-body', config, '--port', String(port), '--redis-host', redisHost];
  args.push('--rtc.tcp_port', String(tcpPort));
  args.push('--rtc.port_range_start', String(udpStart), '--rtc.port_range_end', String(udpEnd));
  const env = {
    ...process.env,
    ...(LIVEKIT_API_SECRET && { LIVEKIT_KEYS: `${LIVEKIT_API_KEY}: ${LIVEKIT_API_SECRET}` }),
  };
  const url = `ws://127.0.0.1:${port}`;
  return startService(stack, name, binary, args, env, port, `http://127.0.0.1:${port}/`, url);
}
