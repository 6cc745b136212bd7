/**
 * The worker's job pool when AGENT_JOBS_PER_PROCESS > 1: calls share job processes, up to that many
 * in each, instead of one process per call. It stands in for the framework's ProcPool through the
 * `createProcPool` option our patch adds to ServerOptions (patches/@livekit+agents+1.9.0.patch),
 * and the worker sees one executor per call (JobHandle), as it would with ProcPool.
 *
 * A crash or kill of a process ends only its own calls; the API's call recovery then dispatches
 * new agents to them. With prewarming (numIdleProcesses > 0, the framework's default in
 * production) one process with a free slot is kept ready.
 */
import {
  log,
  type ProcPoolFactory,
  type ProcPoolOptions,
  type RunningJobInfo,
} from '@livekit/agents';
import { needsSpareProcess, pickProcess, surplusProcesses } from './routing.js';
import type { JobHandle } from './shared-process.js';
import { SharedJobProcess } from './shared-process.js';

/** As the framework's ProcPool sets them for its job processes. */
const PING = { pingInterval: 2500, pingTimeout: 60_000, highPingThreshold: 500 };

export function sharedProcessPool(jobsPerProcess: number): ProcPoolFactory {
  return (options) => new SharedProcessPool(options, jobsPerProcess);
}

export class SharedProcessPool {
  readonly #options: ProcPoolOptions;
  readonly #capacity: number;
  readonly #keepWarm: boolean;
  readonly #processes: SharedJobProcess[] = [];
  readonly #jobs: JobHandle[] = [];
  #started = false;
  #closed = false;
  readonly #logger: ReturnType<typeof log>;

  constructor(options: ProcPoolOptions, jobsPerProcess: number) {
    if (!Number.isInteger(jobsPerProcess) || jobsPerProcess < 1) {
      throw new RangeError(`jobsPerProcess must be a positive integer, not ${jobsPerProcess}`);
    }
    this.#options = options;
    this.#capacity = jobsPerProcess;
    this.#keepWarm = options.numIdleProcesses > 0;
    this.#logger = log().child({ jobsPerProcess });
  }

  /** The running calls: the worker lists, drains and counts these. */
  get processes(): JobHandle[] {
    return [...this.#jobs];
  }

  getByJobId(id: string): JobHandle | null {
    return this.#jobs.find((job) => job.runningJob.job.id === id) ?? null;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#rebalance();
  }

  async launchJob(info: RunningJobInfo): Promise<void> {
    if (this.#closed) throw new Error('the job pool is closed');
    const target = pickProcess(this.#processes) ?? this.#spawn();
    const launching = target.launch(info, this.#options.closeTimeout);
    // The slot is taken: a spare can start for the next call while this one waits.
    this.#rebalance();
    const job = await launching;
    this.#jobs.push(job);
    this.#logger.debug(
      { jobId: info.job.id, jobPid: job.pid, calls: target.running },
      'job launched',
    );
    void job.join().then(() => {
      this.#jobs.splice(this.#jobs.indexOf(job), 1);
      this.#rebalance();
    });
  }

  async close(): Promise<void> {
    if (!this.#started || this.#closed) return;
    this.#closed = true;
    await Promise.allSettled(this.#processes.map((process) => process.close()));
  }

  #spawn(): SharedJobProcess {
    const { agent, initializeTimeout, closeTimeout, sessionEndTimeout, inferenceExecutor } =
      this.#options;
    const process = new SharedJobProcess({
      agent,
      capacity: this.#capacity,
      sessionEndTimeout,
      inferenceExecutor,
      initializeTimeout,
      closeTimeout,
      memoryWarnMB: this.#options.memoryWarnMB,
      memoryLimitMB: this.#options.memoryLimitMB,
      ...PING,
    });
    this.#processes.push(process);
    void process.initialized.then(
      () => this.#rebalance(),
      (error: unknown) => this.#logger.error({ error }, 'a shared job process failed to start'),
    );
    void process.join().then(() => {
      this.#processes.splice(this.#processes.indexOf(process), 1);
      this.#rebalance();
    });
    return process;
  }

  /** Starts a spare when no process has a free slot, stops processes no longer needed. */
  #rebalance(): void {
    if (!this.#started || this.#closed) return;
    const live = this.#processes.filter((process) => !process.stopping);
    for (const process of surplusProcesses(live, { keepWarm: this.#keepWarm })) {
      // A retired process still runs a job that would not end: it is killed, not asked.
      if (process.accepting) void process.stop();
      else process.kill();
    }
    if (needsSpareProcess(this.#processes, { keepWarm: this.#keepWarm })) this.#spawn();
  }
}
