/**
 * A shared job process: runs several calls of the agent module (argv[2]) side by side, each with
 * its own Room and JobContext (the framework keeps the job context in AsyncLocalStorage, so each
 * call's code finds its own). It follows the framework's job_proc_lazy_main (1.9.0) step by step,
 * with a map of jobs instead of one: the same initialize, prewarm, ping and shutdown protocol, and
 * per call the same end (entry stops, session finalized, room left, shutdown callbacks), announced
 * with the job's id (messages.ts). It exits when the worker asks and its calls are over, or when
 * the worker is gone (no ping for 15 s).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { EventEmitter, once } from 'node:events';
import { pathToFileURL } from 'node:url';
import {
  type AgentDefinition,
  defaultInitializeProcessFunc,
  Future,
  initializeLogger,
  type ipc,
  isAgent,
  JobContext,
  JobProcess,
  log,
  type RunningJobInfo,
  runWithJobContextAsync,
  shortuuid,
  telemetry,
} from '@livekit/agents';
import {
  finalizeSession,
  flushJobLogs,
  flushJobMetrics,
  runShutdownCallbacks,
  validateSessionEndTimeout,
  waitForEntrypointShutdown,
} from '@livekit/agents/dist/job_lifecycle.js';
import { setLoggerState } from '@livekit/agents/dist/log_core.js';
import { dispose, Room, RoomEvent } from '@livekit/rtc-node';
import type { SharedProcessMessage } from './messages.js';

const ORPHANED_TIMEOUT_MS = 15_000;
type Logger = ReturnType<typeof log>;
/** The call whose code is running: its job and room, named on each of its log lines. */
const currentCall = new AsyncLocalStorage<{ jobID: string; room_id: string | undefined }>();

const send = (message: SharedProcessMessage): void => {
  try {
    if (process.connected) process.send?.(message);
  } catch (error) {
    // The channel closes while the worker shuts down; nothing is left to tell it then.
    log().debug({ error, case: message.case }, 'IPC message not sent');
  }
};

/** One inference channel to the worker for all the calls here (requests carry their own id). */
class InferenceClient implements ipc.InferenceExecutor {
  readonly #pending = new Map<string, (answer: { data?: unknown; error?: Error }) => void>();

  constructor() {
    process.on('message', (message: SharedProcessMessage) => {
      if (message.case !== 'inferenceResponse') return;
      this.#pending.get(message.value.requestId)?.(message.value);
      this.#pending.delete(message.value.requestId);
    });
  }

  async doInference(method: string, data: unknown): Promise<unknown> {
    const requestId = shortuuid('inference_job_');
    const answer = new Promise<{ data?: unknown; error?: Error }>((resolve) =>
      this.#pending.set(requestId, resolve),
    );
    send({ case: 'inferenceRequest', value: { requestId, method, data } });
    const { data: result, error } = await answer;
    if (error) throw new Error(`inference of ${method} failed: ${error.message}`);
    return result;
  }
}

interface RunningCall {
  close(reason: string): void;
  done: Promise<void>;
}

/** Runs one call to its end, as the framework's startJob does. */
function startCall(
  agent: AgentDefinition,
  proc: JobProcess,
  info: RunningJobInfo,
  inference: InferenceClient,
  sessionEndTimeout: number,
  logger: Logger,
): RunningCall {
  const jobId = info.job.id;
  const closing = new EventEmitter();
  let shutdown = false;
  const close = (reason: string) => {
    shutdown = true;
    closing.emit('close', reason);
  };
  const room = new Room();
  room.on(RoomEvent.Disconnected, () => {
    if (!shutdown) close('room disconnected');
  });
  const ctx = new JobContext(proc, info, room, () => {}, close, inference);
  const closed = once(closing, 'close').then(([reason]) => {
    shutdown = true;
    send({ case: 'jobExiting', value: { jobId, reason: String(reason) } });
  });
  const entry = runWithJobContextAsync(ctx, () => agent.entry(ctx));
  entry.catch(() => close('job crashed'));

  const done = (async () => {
    await closed;
    await waitForEntrypointShutdown(entry, logger);
    await runWithJobContextAsync(ctx, async () => {
      try {
        await finalizeSession(ctx, agent.onSessionEnd, sessionEndTimeout, logger);
      } finally {
        send({ case: 'jobShuttingDown', value: { jobId } });
      }
      await room.disconnect().catch((error: unknown) => {
        logger.error({ error }, 'error while disconnecting room');
      });
      await runShutdownCallbacks(ctx.shutdownCallbacks, logger);
    });
    await flushJobLogs(logger);
  })().finally(() => send({ case: 'jobDone', value: { jobId } }));
  return { close, done };
}

async function loadAgent(moduleFile: string): Promise<AgentDefinition> {
  const module = await import(pathToFileURL(moduleFile).href);
  const agent = isAgent(module.default) ? module.default : module.default?.default;
  if (!isAgent(agent)) throw new Error(`no agent is the default export of ${moduleFile}`);
  return agent;
}

async function main(): Promise<void> {
  const agent = await loadAgent(process.argv[2] ?? '');
  // The worker signals the whole process group; it ends the calls itself, through messages.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});

  const [init] = (await once(process, 'message')) as SharedProcessMessage[];
  if (init?.case !== 'initializeRequest')
    throw new Error('first message must be InitializeRequest');
  initializeLogger(init.value.loggerOptions);
  const sessionEndTimeout = validateSessionEndTimeout(init.value.sessionEndTimeout ?? Number.NaN);
  const proc = new JobProcess();
  // The framework logs through one global logger, to which a process of one call binds its job.
  // Here each line names the call it runs for (what runs outside any call names only the process).
  const logger = log().child(
    { pid: proc.pid },
    { formatters: { log: (line) => ({ ...currentCall.getStore(), ...line }) } },
  );
  setLoggerState(logger, init.value.loggerOptions);
  process.on('unhandledRejection', (reason) => {
    logger.debug({ error: reason }, 'unhandled promise rejection in a shared job process');
  });
  await (agent.prewarm ?? defaultInitializeProcessFunc)(proc);
  const loopMonitor = telemetry.loopMonitor.startMonitoring({ name: 'job' });
  send({ case: 'initializeResponse', value: undefined });

  const inference = new InferenceClient();
  const calls = new Map<string, RunningCall>();
  const exit = new Future();
  let exiting = false;
  const orphaned = setTimeout(() => {
    logger.warn('shared job process orphaned, shutting down');
    exit.resolve();
  }, ORPHANED_TIMEOUT_MS);

  const onMessage = (message: SharedProcessMessage) => {
    switch (message.case) {
      case 'pingRequest':
        orphaned.refresh();
        send({
          case: 'pongResponse',
          value: { lastTimestamp: message.value.timestamp, timestamp: Date.now() },
        });
        break;
      case 'startJobRequest': {
        const info = message.value.runningJob;
        const jobId = info.job.id;
        const call = currentCall.run({ jobID: jobId, room_id: info.job.room?.sid }, () => {
          logger.debug({ calls: calls.size + 1 }, 'job started');
          return startCall(agent, proc, info, inference, sessionEndTimeout, logger);
        });
        calls.set(jobId, call);
        void call.done.finally(() => {
          calls.delete(jobId);
          if (exiting && calls.size === 0) exit.resolve();
        });
        break;
      }
      case 'jobShutdownRequest':
        calls.get(message.value.jobId)?.close(message.value.reason);
        break;
      case 'shutdownRequest':
        send({ case: 'shutdownRequestAck', value: undefined });
        exiting = true;
        if (calls.size === 0) exit.resolve();
        for (const call of calls.values()) call.close(message.value?.reason ?? 'shutdown request');
        break;
    }
  };
  process.on('message', onMessage);

  await exit.await;
  send({ case: 'shuttingDown', value: undefined });
  if (loopMonitor) telemetry.loopMonitor.stopMonitoring(loopMonitor);
  await flushJobMetrics(logger);
  clearTimeout(orphaned);
  process.off('message', onMessage);
  send({ case: 'done', value: undefined });
  // Native resources go before exit, as in the framework's job process (node-sdks#564).
  await dispose().catch((error: unknown) =>
    logger.warn({ error }, 'failed to dispose native resources'),
  );
  process.exit(0);
}

if (process.send) await main();
