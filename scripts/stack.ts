/**
 * Starts the whole stack as child processes (LiveKit unless an external one is given, the API,
 * the agent worker), waits until each one answers its health check, and stops all of them
 * together. Used by `npm start`, the end-to-end test harness and the benchmarks.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ensureLivekitServer } from './livekit-server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STARTUP_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

export interface StackPorts {
  livekit: number;
  livekitTcp: number;
  /** First and last UDP port for WebRTC media. */
  udp: [number, number];
  api: number;
  agentHealth: number;
}

export interface StackOptions {
  /** Environment for the API and the agent (providers, keys, tuning). */
  env: NodeJS.ProcessEnv;
  ports: StackPorts;
  /** Start livekit-server from livekit.yaml; when false, `env.LIVEKIT_URL` names the server. */
  localLivekit: boolean;
  onLog: (service: string, line: string) => void;
}

export interface Stack {
  apiUrl: string;
  livekitUrl: string;
  ports: StackPorts;
  /** Settles when any process exits on its own, naming it. */
  exited: Promise<{ service: string; code: number | null }>;
  stop(): Promise<void>;
}

interface Service {
  name: string;
  child: ChildProcess;
}

function startService(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  onLog: StackOptions['onLog'],
): Service {
  // A process group of its own, so stopping it also stops the agent's job processes.
  const child = spawn(command, args, { cwd: ROOT, env, detached: true, stdio: 'pipe' });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => onLog(name, line));
  }
  return { name, child };
}

const tsxEntry = (file: string) => ['--import', 'tsx', file];

async function waitForHttp(url: string, service: Service): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null) {
      throw new Error(`${service.name} exited with code ${service.child.exitCode} while starting`);
    }
    const ok = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(
    `${service.name} did not become healthy at ${url} within ${STARTUP_TIMEOUT_MS} ms`,
  );
}

async function stopService({ child }: Service): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid as number), signal);
    } catch {
      // already gone
    }
  };
  signalGroup('SIGTERM');
  const timer = setTimeout(() => signalGroup('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
  signalGroup('SIGKILL');
}

export async function startStack({
  env,
  ports,
  localLivekit,
  onLog,
}: StackOptions): Promise<Stack> {
  const services: Service[] = [];
  const stop = async () => {
    await Promise.all(services.reverse().map(stopService));
  };
  try {
    const livekitUrl = localLivekit ? `ws://127.0.0.1:${ports.livekit}` : env.LIVEKIT_URL;
    if (!livekitUrl) throw new Error('LIVEKIT_URL is required when no local LiveKit is started');
    if (localLivekit) {
      const binary = await ensureLivekitServer((line) => onLog('livekit', line));
      const livekit = startService(
        'livekit',
        binary,
        [
          '--config',
          'livekit.yaml',
          '--port',
          String(ports.livekit),
          '--rtc.tcp_port',
          String(ports.livekitTcp),
          '--rtc.port_range_start',
          String(ports.udp[0]),
          '--rtc.port_range_end',
          String(ports.udp[1]),
        ],
        process.env,
        onLog,
      );
      services.push(livekit);
      await waitForHttp(`http://127.0.0.1:${ports.livekit}/`, livekit);
    }

    const childEnv = {
      ...env,
      LIVEKIT_URL: livekitUrl,
      API_PORT: String(ports.api),
      AGENT_HEALTH_PORT: String(ports.agentHealth),
    };
    const api = startService('api', process.execPath, tsxEntry('api/main.ts'), childEnv, onLog);
    const agent = startService(
      'agent',
      process.execPath,
      [...tsxEntry('agent/main.ts'), 'start'],
      childEnv,
      onLog,
    );
    services.push(api, agent);
    const apiUrl = `http://127.0.0.1:${ports.api}`;
    await Promise.all([
      waitForHttp(`${apiUrl}/health`, api),
      waitForHttp(`http://127.0.0.1:${ports.agentHealth}/`, agent),
    ]);

    const exited = Promise.race(
      services.map(
        ({ name, child }) =>
          new Promise<{ service: string; code: number | null }>((resolve) =>
            child.once('exit', (code) => resolve({ service: name, code })),
          ),
      ),
    );
    return { apiUrl, livekitUrl, ports, exited, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
