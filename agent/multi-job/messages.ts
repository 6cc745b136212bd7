/**
 * What the worker and a shared job process say to each other. The process-wide messages are the
 * framework's own (initialize, ping, shutdown, inference: `IPCMessage`), so the framework's
 * supervisor runs the process as it runs one of its own; these add the job to what concerns one job.
 * A shared process never sends the framework's `exiting`, `shuttingDown` or `done` for one job: the
 * supervisor would take them for the whole process's.
 */
import type { IPCMessage } from '@livekit/agents/dist/ipc/message.js';

export type JobMessage =
  /** Worker → process: end this job (its call) only. */
  | { case: 'jobShutdownRequest'; value: { jobId: string; reason: string } }
  /** Process → worker: the job is ending (why), */
  | { case: 'jobExiting'; value: { jobId: string; reason: string } }
  /** its session is closed and only the room and shutdown callbacks are left, */
  | { case: 'jobShuttingDown'; value: { jobId: string } }
  /** and it is gone. */
  | { case: 'jobDone'; value: { jobId: string } };

export type SharedProcessMessage = IPCMessage | JobMessage;
