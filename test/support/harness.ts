/**
 * The end-to-end harness: a real livekit-server, the API and the agent worker (through the same
 * `startStack` as `npm start`), with the providers replaced by local servers that speak their
 * wire protocols. Everything listens on free loopback ports; logs go to test-artifacts/logs.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { portIsFree, type Stack, startStack } from '../../scripts/stack.js';
import { type DeepgramServer, startDeepgramServer } from '../providers/deepgram.js';
import { type OpenAIServer, startOpenAIServer } from '../providers/openai.js';

export interface TestStack extends Stack {
  openai: OpenAIServer;
  deepgram: DeepgramServer;
  logDir: string;
  /** The environment the API and the worker run with (for another replica of either). */
  serviceEnv: NodeJS.ProcessEnv;
}

/** The provider keys the stack runs with (the test servers take any): no log may show them. */
export const TEST_PROVIDER_KEYS = {
  OPENAI_API_KEY: 'test-openai-key',
  DEEPGRAM_API_KEY: 'test-deepgram-key',
};

/**
 * A TCP port free right now, below Linux's ephemeral range (32768+): a port the OS hands out for
 * listen(0) can be taken the next moment by an outgoing connection of another process, and
 * livekit-server, which listens on every address, then fails to bind it.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 10_000 + Math.floor(Math.random() * 20_000);
    if (await portIsFree(port)) return port;
  }
}

/** A window of UDP ports for WebRTC media, away from the ephemeral range the OS hands out. */
export function udpWindow(size = 40): [number, number] {
  const start = 20_000 + Math.floor(Math.random() * 500) * 50;
  return [start, start + size - 1];
}

export async function startTestStack(
  env: NodeJS.ProcessEnv = {},
  { livekitRedis }: { livekitRedis?: string } = {},
): Promise<TestStack> {
  const [openai, deepgram] = await Promise.all([startOpenAIServer(), startDeepgramServer()]);
  const runId = `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`;
  const logDir = join('test-artifacts', 'logs', runId);
  mkdirSync(logDir, { recursive: true });
  const logs = new Map<string, NodeJS.WritableStream>();
  const onLog = (service: string, line: string) => {
    let file = logs.get(service);
    if (!file) {
      file = createWriteStream(join(logDir, `${service}.log`));
      logs.set(service, file);
    }
    file.write(`${line}\n`);
  };

  try {
    const serviceEnv: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      // A name of its own, so a developer's running worker never takes the test's calls.
      AGENT_NAME: `test-agent-${process.pid}`,
      ...TEST_PROVIDER_KEYS,
      LLM_BASE_URL: openai.url,
      LLM_MODEL: 'test-llm',
      TTS_BASE_URL: openai.url,
      DEEPGRAM_BASE_URL: deepgram.url,
      LOG_LEVEL: 'debug',
      // The run's own store, kept with its logs; it outlives an API restart.
      DATA_DIR: join(logDir, 'data'),
      // A call a test leaves behind holds the worker's stop for no longer than this.
      AGENT_DRAIN_TIMEOUT_S: '10',
      ...env,
    };
    const stack = await startStack({
      localLivekit: true,
      ...(livekitRedis && { livekitRedis }),
      onLog,
      ports: {
        livekit: await freePort(),
        livekitTcp: await freePort(),
        udp: udpWindow(),
        api: await freePort(),
        agentHealth: await freePort(),
      },
      env: serviceEnv,
    });
    return {
      ...stack,
      openai,
      deepgram,
      logDir,
      serviceEnv: { ...serviceEnv, LIVEKIT_URL: stack.livekitUrl },
      async stop() {
        await stack.stop();
        await Promise.all([openai.close(), deepgram.close()]);
        for (const file of logs.values()) file.end();
      },
    };
  } catch (error) {
    await Promise.all([openai.close(), deepgram.close()]);
    throw new Error(`${(error as Error).message} (logs in ${logDir})`);
  }
}
