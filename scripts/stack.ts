/**
 * Starts the whole stack as child processes (LiveKit unless an external one is given, the API,
 * the agent worker, and for development the call page's Vite server), waits until each one
 * answers its health check, and stops all of them together. Used by `npm start`, the end-to-end
 * test harness and the benchmarks.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { agentConfigSchema } from '../agent/config.js';
import { livekitSchema, loadConfig } from '../common/config.js';
import { BUILD_DIR, PROJECT_ROOT as ROOT } from '../common/paths.js';
import { LIVEKIT_WEBHOOK_PATH } from '../common/protocol.js';
import { ensureLivekitServer } from './livekit-server.js';

const STARTUP_TIMEOUT_MS = 60_000;
/** How long a process has to exit after SIGTERM before it is killed (the agent: plus its drain). */
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
  /** Redis (`host:port`) the local livekit-server shares rooms through with other nodes. */
  livekitRedis?: string;
  /** Also serve the call page from source (Vite, port 5173) after the API is up. Tests do not:
   * they use the built page the API serves. */
  webDevServer?: boolean;
  onLog: (service: string, line: string) => void;
}

export type ServiceName = 'livekit' | 'api' | 'agent' | 'web';

/** Vite's own port for the page (web/vite.config.ts). */
export const WEB_DEV_PORT = 5173;

/** Whether nothing listens on `port`, on any address (livekit-server listens on every one). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
      .once('error', () => resolve(false))
      .listen(port, () => server.close(() => resolve(true)));
  });
}

export interface Stack {
  apiUrl: string;
  /** The Vite dev server, when started. */
  webUrl?: string;
  livekitUrl: string;
  ports: StackPorts;
  /** Settles when a process exits without being asked to, naming it. */
  exited: Promise<{ service: string; code: number | null }>;
  /**
   * Stops one process (the agent worker drains) and starts it again, waiting until it is healthy;
   * `whileDown` runs in between.
   */
  restart(service: ServiceName, options?: { whileDown?: () => Promise<void> }): Promise<void>;
  /** The process id of a running service (tests signal it, or look for its children). */
  pid(service: ServiceName): number | undefined;
  /**
   * Stops everything, the agent worker first: it drains (running calls may end, up to
   * AGENT_DRAIN_TIMEOUT_S) unless `force` asks for an immediate stop.
   */
  stop(options?: { force?: boolean }): Promise<void>;
}

/** One supervised process: started in a process group of its own, so stopping it also stops
 * the children it forks (the agent's job processes). */
class Service {
  #child: ChildProcess | undefined;
  #stopping = false;

  constructor(
    readonly name: ServiceName,
    private readonly command: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly healthUrl: string,
    private readonly onLog: StackOptions['onLog'],
    private readonly onUnexpectedExit: (service: string, code: number | null) => void,
    /** Time between SIGTERM and SIGKILL. */
    private readonly stopTimeoutMs = STOP_TIMEOUT_MS,
  ) {}

  get pid(): number | undefined {
    const child = this.#child;
    return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
  }

  async start(): Promise<void> {
    this.#stopping = false;
    const child = spawn(this.command, this.args, {
      cwd: ROOT,
      env: this.env,
      detached: true,
      stdio: 'pipe',
    });
    this.#child = child;
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => this.onLog(this.name, line));
    }
    child.once('exit', (code) => {
      if (!this.#stopping) this.onUnexpectedExit(this.name, code);
    });
    await this.#waitUntilHealthy(child);
  }

  /** SIGTERM, and SIGKILL after the stop timeout (at once when forced). */
  async stop(force = false): Promise<void> {
    const child = this.#child;
    this.#stopping = true;
    if (!child || child.exitCode !== null || child.signalCode !== null || !child.pid) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-(child.pid as number), signal);
      } catch {
        // already gone
      }
    };
    // The whole group hears SIGTERM; the agent's job processes ignore it and are shut down by
    // their worker once it has drained.
    signalGroup(force ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => signalGroup('SIGKILL'), this.stopTimeoutMs);
    await exited;
    clearTimeout(timer);
    signalGroup('SIGKILL');
  }

  async #waitUntilHealthy(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) {
        throw new Error(`${this.name} exited with code ${child.exitCode} while starting`);
      }
      const ok = await fetch(this.healthUrl, { signal: AbortSignal.timeout(1000) }).then(
        (response) => response.ok,
        () => false,
      );
      if (ok) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`${this.name} did not become healthy at ${this.healthUrl} in time`);
  }
}

/** A process's entry in the build: the stack runs plain JavaScript, never a TypeScript loader. */
function builtEntry(file: string): string {
  const path = join(BUILD_DIR, file);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` first`);
  return path;
}

export async function startStack({
  env,
  ports,
  localLivekit,
  livekitRedis,
  webDevServer = false,
  onLog,
}: StackOptions): Promise<Stack> {
  let reportExit: (exit: { service: string; code: number | null }) => void = () => {};
  const exited = new Promise<{ service: string; code: number | null }>((resolve) => {
    reportExit = resolve;
  });
  const onUnexpectedExit = (service: string, code: number | null) => reportExit({ service, code });
  const services = new Map<ServiceName, Service>();
  const stop = async ({ force = false } = {}) => {
    // The agent first, while the API and LiveKit still serve the calls it drains; LiveKit last,
    // so the others do not log its departure as an outage.
    for (const name of ['web', 'agent', 'api', 'livekit'] as const) {
      await services.get(name)?.stop(force);
    }
  };

  try {
    const livekitUrl = localLivekit ? `ws://127.0.0.1:${ports.livekit}` : env.LIVEKIT_URL;
    if (!livekitUrl) throw new Error('LIVEKIT_URL is required when no local LiveKit is started');
    const apiUrl = `http://127.0.0.1:${ports.api}`;
    if (localLivekit) {
      const binary = await ensureLivekitServer((line) => onLog('livekit', line));
      const keys = loadConfig(
        livekitSchema.pick({ LIVEKIT_API_KEY: true, LIVEKIT_API_SECRET: true }),
        env,
      );
      const config = withWebhook(keys.LIVEKIT_API_KEY, `${apiUrl}${LIVEKIT_WEBHOOK_PATH}`);
      const args = ['--config-body', config, '--port', String(ports.livekit)];
      args.push('--rtc.tcp_port', String(ports.livekitTcp));
      args.push('--rtc.port_range_start', String(ports.udp[0]));
      args.push('--rtc.port_range_end', String(ports.udp[1]));
      if (livekitRedis) args.push('--redis-host', livekitRedis);
      const livekitHealth = `http://127.0.0.1:${ports.livekit}/`;
      // The key pair the API and the agent are given (livekit.yaml's dev pair unless set), passed
      // in the environment so the secret stays out of the process list.
      const livekitEnv = {
        ...process.env,
        LIVEKIT_KEYS: `${keys.LIVEKIT_API_KEY}: ${keys.LIVEKIT_API_SECRET}`,
      };
      const livekit = new Service(
        'livekit',
        binary,
        args,
        livekitEnv,
        livekitHealth,
        onLog,
        onUnexpectedExit,
      );
      services.set('livekit', livekit);
      await livekit.start();
    }

    const childEnv = {
      API_URL: apiUrl,
      ...env,
      LIVEKIT_URL: livekitUrl,
      API_PORT: String(ports.api),
      AGENT_HEALTH_PORT: String(ports.agentHealth),
    };
    const node = (name: ServiceName, args: string[], healthUrl: string, stopTimeoutMs?: number) =>
      new Service(
        name,
        process.execPath,
        args,
        childEnv,
        healthUrl,
        onLog,
        onUnexpectedExit,
        stopTimeoutMs,
      );
    services.set('api', node('api', [builtEntry('api/main.js')], `${apiUrl}/health`));
    // The worker gets its drain (the same setting it reads), and then time to shut its calls down
    // (agent/main.ts), before it is killed.
    const drain = loadConfig(
      z.object({ AGENT_DRAIN_TIMEOUT_S: agentConfigSchema.shape.AGENT_DRAIN_TIMEOUT_S }),
      childEnv,
    );
    services.set(
      'agent',
      node(
        'agent',
        [builtEntry('agent/main.js'), 'start'],
        `http://127.0.0.1:${ports.agentHealth}/`,
        drain.AGENT_DRAIN_TIMEOUT_S * 1000 + 2 * STOP_TIMEOUT_MS,
      ),
    );
    await Promise.all([services.get('api')?.start(), services.get('agent')?.start()]);
    const webUrl = webDevServer ? `http://127.0.0.1:${WEB_DEV_PORT}` : undefined;
    if (webUrl) {
      const vite = ['node_modules/vite/bin/vite.js', '--config', 'web/vite.config.ts'];
      services.set('web', node('web', vite, `${webUrl}/`));
      await services.get('web')?.start();
    }

    const restart: Stack['restart'] = async (name, { whileDown } = {}) => {
      const service = services.get(name);
      if (!service) throw new Error(`${name} is not run by this stack`);
      await service.stop();
      try {
        await whileDown?.();
      } finally {
        await service.start();
      }
    };
    const pid = (name: ServiceName) => services.get(name)?.pid;
    return { apiUrl, ...(webUrl && { webUrl }), livekitUrl, ports, exited, restart, pid, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * livekit.yaml plus its webhook to this stack's API (signed with the API's key), which only this
 * script knows the address of; livekit-server takes a list such as `urls` only from YAML.
 */
export function withWebhook(apiKey: string, webhookUrl: string): string {
  const base = readFileSync(join(ROOT, 'livekit.yaml'), 'utf8');
  return `${base}\nwebhook:\n  api_key: ${apiKey}\n  urls:\n    - ${webhookUrl}\n`;
}
