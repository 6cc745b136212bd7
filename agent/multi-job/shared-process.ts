/**
 * One job process shared by several calls, seen from the worker. The process itself is supervised
 * by the framework's own SupervisedProc (start, initialize, pings, memory watch, shutdown, kill);
 * each call in it is a JobHandle, the executor the worker sees for that job (status, join, close).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { Future, type ipc, log, type RunningJobInfo } from '@livekit/agents';
import { type JobExecutor, JobStatus } from '@livekit/agents/dist/ipc/job_executor.js';
import { type ProcOpts, SupervisedProc } from '@livekit/agents/dist/ipc/supervised_proc.js';
import type { SharedProcessMessage } from './messages.js';
import type { ProcessSlots } from './routing.js';

const CHILD_MAIN = new URL('./child-main.js', import.meta.url);

export interface SharedProcessOptions extends ProcOpts {
  /** The agent module (its default export is `defineAgent(...)`). */
  agent: string;
  capacity: number;
  sessionEndTimeout: number;
  inferenceExecutor?: ipc.InferenceExecutor;
}

export class SharedJobProcess extends SupervisedProc implements ProcessSlots {
  readonly capacity: number;
  accepting = true;
  ready = false;
  /** Asked to exit or killed: only waiting for it to be gone. */
  stopping = false;
  /** Initialized, or why not: launches into a starting process wait for it. */
  readonly initialized: Promise<void>;
  readonly #jobs = new Map<string, JobHandle>();
  #reserved = 0;
  readonly #agent: string;
  readonly #inferenceExecutor?: ipc.InferenceExecutor;
  /** The supervisor keeps this object (not a copy), so the memory limits follow the job count. */
  readonly #limits: ProcOpts;
  readonly #perJob: { memoryWarnMB: number; memoryLimitMB: number };
  readonly #logger = log().child({ kind: 'shared job process' });

  constructor({
    agent,
    capacity,
    sessionEndTimeout,
    inferenceExecutor,
    ...opts
  }: SharedProcessOptions) {
    const limits = { ...opts };
    super(limits);
    this.#limits = limits;
    this.#perJob = { memoryWarnMB: opts.memoryWarnMB, memoryLimitMB: opts.memoryLimitMB };
    this.capacity = capacity;
    this.#agent = agent;
    this.#inferenceExecutor = inferenceExecutor;
    this.initialized = this.start()
      .then(() => this.initialize({ sessionEndTimeout }))
      .then(() => {
        this.ready = true;
      });
    // A process that died (crash, kill, memory limit, no pongs) takes its calls with it.
    void this.initialized
      .catch(() => undefined)
      .then(() => this.join())
      .then(() => {
        this.accepting = false;
        for (const handle of this.#jobs.values()) handle.finish(JobStatus.FAILED);
      });
  }

  get running(): number {
    return this.#jobs.size + this.#reserved;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  protected override get processKind(): string {
    return 'job';
  }

  override createProcess(): ChildProcess {
    return fork(CHILD_MAIN, [this.#agent]);
  }

  override async mainTask(child: ChildProcess): Promise<void> {
    child.on('message', (message: SharedProcessMessage) => {
      switch (message.case) {
        case 'inferenceRequest':
          void this.#infer(child, message.value);
          break;
        case 'jobExiting':
          this.#logger.debug(message.value, 'job exiting');
          break;
        case 'jobShuttingDown':
          this.#jobs.get(message.value.jobId)?.shuttingDown();
          break;
        case 'jobDone':
          this.#jobs.get(message.value.jobId)?.finish(JobStatus.SUCCESS);
          break;
      }
    });
  }

  /** Starts `info` here once the process is up; the slot is taken at once. */
  async launch(info: RunningJobInfo, closeTimeout: number): Promise<JobHandle> {
    this.#reserved += 1;
    try {
      await this.initialized;
    } finally {
      this.#reserved -= 1;
    }
    if (!this.isAlive) throw new Error('the shared job process is gone');
    const handle = new JobHandle(this, info, closeTimeout, () => {
      this.#jobs.delete(info.job.id);
      this.#scaleMemoryLimits();
    });
    this.#jobs.set(info.job.id, handle);
    this.#scaleMemoryLimits();
    this.#send({ case: 'startJobRequest', value: { runningJob: info } });
    return handle;
  }

  /** Asks the process to end one call; the others go on. */
  shutdownJob(jobId: string, reason: string): void {
    this.#send({ case: 'jobShutdownRequest', value: { jobId, reason } });
  }

  /** Takes no new call; the pool stops the process once its calls are over. */
  retire(): void {
    this.accepting = false;
  }

  /** Asks the process to exit (it has no call left). */
  stop(): Promise<void> {
    this.retire();
    this.stopping = true;
    return this.close();
  }

  kill(): void {
    this.retire();
    this.stopping = true;
    this.proc?.kill('SIGKILL');
  }

  #send(message: SharedProcessMessage): void {
    if (this.proc?.connected) this.proc.send(message);
  }

  #scaleMemoryLimits(): void {
    const jobs = Math.max(1, this.#jobs.size);
    this.#limits.memoryWarnMB = this.#perJob.memoryWarnMB * jobs;
    this.#limits.memoryLimitMB = this.#perJob.memoryLimitMB * jobs;
  }

  async #infer(child: ChildProcess, request: { method: string; requestId: string; data: unknown }) {
    const { requestId } = request;
    try {
      if (!this.#inferenceExecutor) throw new Error('no inference executor');
      const data = await this.#inferenceExecutor.doInference(request.method, request.data);
      if (child.connected) child.send({ case: 'inferenceResponse', value: { requestId, data } });
    } catch (error) {
      if (child.connected) child.send({ case: 'inferenceResponse', value: { requestId, error } });
    }
  }
}

/** One call in a shared process: what the worker sees as the job's executor. */
export class JobHandle implements JobExecutor {
  readonly started = true;
  userArguments: unknown;
  status = JobStatus.RUNNING;
  readonly runningJob: RunningJobInfo;
  readonly #process: SharedJobProcess;
  readonly #closeTimeout: number;
  readonly #onFinish: () => void;
  readonly #shuttingDown = new Future();
  readonly #done = new Future();
  #finished = false;

  constructor(
    process: SharedJobProcess,
    info: RunningJobInfo,
    closeTimeout: number,
    onFinish: () => void,
  ) {
    this.#process = process;
    this.runningJob = info;
    this.#closeTimeout = closeTimeout;
    this.#onFinish = onFinish;
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  // The process is started and initialized by the pool, before the job is handed to it.
  async start(): Promise<void> {}
  async initialize(): Promise<void> {}
  async launchJob(): Promise<void> {
    throw new Error('a job handle runs the one job it was made for');
  }

  join(): Promise<void> {
    return this.#done.await;
  }

  /**
   * Ends this call the way the framework ends a job process: its session closes (no time limit, as
   * the framework's), then its room and shutdown callbacks get the close timeout. A job that
   * overruns it is given up: its process takes no new call and is killed once its other calls end.
   */
  async close(): Promise<void> {
    if (this.#finished) return;
    this.#process.shutdownJob(this.runningJob.job.id, 'shutdown request');
    await Promise.race([this.#shuttingDown.await, this.#done.await]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#closeTimeout);
    });
    const outcome = await Promise.race([this.#done.await, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      log().error(
        { jobId: this.runningJob.job.id, pid: this.pid },
        'job shutdown is taking too much time',
      );
      this.#process.retire();
      this.finish(JobStatus.FAILED);
    }
  }

  shuttingDown(): void {
    this.#shuttingDown.resolve();
  }

  finish(status: JobStatus): void {
    if (this.#finished) return;
    this.#finished = true;
    this.status = status;
    this.#onFinish();
    this.#shuttingDown.resolve();
    this.#done.resolve();
  }
}
