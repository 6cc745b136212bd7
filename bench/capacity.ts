/**
 * Sessions per machine: concurrent calls, each a scripted caller speaking turns on a loop, are
 * added in steps until load adds more than 300 ms to the p95 pipeline overhead (over the p50 of
 * a single call, which is mostly WebRTC transport) or turns fail; the largest count that passed
 * is then held for five minutes. CPU and memory are read per process role, first with no call
 * (the stack idle, prewarmed processes included), so a call's marginal cost is (N calls − idle) / N.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { agentConfigSchema } from '../agent/config.js';
import { startTestStack } from '../test/support/harness.js';
import type { CallerMessage } from './capacity-callers.js';
import { type Role, type RoleStats, sampleTree, statsBetween } from './process-stats.js';
import { type BenchOptions, type BenchSection, ms, summarize } from './report.js';
import { applyProfile, REALISTIC } from './voice-turns.js';

/** How much load may add to the p95 overhead over a single call's p50. */
const ADDED_OVERHEAD_LIMIT_MS = 300;
/** Turns end after at most 500 ms of endpointing, as human speech mostly does (the end-of-turn
 * model hears espeak as unfinished and would otherwise wait 2.5 s every turn). */
const AGENT_ENV = {
  LOG_LEVEL: 'info',
  ENDPOINTING_MAX_DELAY_MS: '500',
  // The pool under test, the worker's default unless set: `AGENT_JOBS_PER_PROCESS=1 npm run bench`.
  AGENT_JOBS_PER_PROCESS: String(
    agentConfigSchema.shape.AGENT_JOBS_PER_PROCESS.parse(process.env.AGENT_JOBS_PER_PROCESS),
  ),
};
const SERVER_ROLES: Role[] = ['livekit', 'api', 'agent worker', 'agent jobs', 'agent inference'];
const CALLERS_PER_PROCESS = 5;
/** Turns that start within this long after callers join are not counted (joining, warm-up). */
const SETTLE_MS = 12_000;
/** The idle stack's window, before any caller joins. */
const IDLE_MS = 10_000;
const TARGET_CALLS = 12;
const TARGET_MARGINAL_RSS_MB = 200;
const TARGET_CPU_PER_CALL = 0.12;

interface Window {
  calls: number;
  seconds: number;
  turns: number;
  errors: string[];
  overheadP50: number;
  overheadP95: number;
  voiceToVoiceP50: number;
  roles: Partial<Record<Role, RoleStats>>;
  passed: boolean;
}

class CallerGroups {
  readonly turns: Extract<CallerMessage, { type: 'turn' }>[] = [];
  readonly errors: Extract<CallerMessage, { type: 'error' }>[] = [];
  readonly #groups: { process: ChildProcess; count: number }[] = [];

  constructor(private readonly apiUrl: string) {}

  get calls(): number {
    return this.#groups.reduce((sum, group) => sum + group.count, 0);
  }

  add(count: number): void {
    for (let left = count; left > 0; left -= CALLERS_PER_PROCESS) {
      const size = Math.min(left, CALLERS_PER_PROCESS);
      const child = fork(
        fileURLToPath(new URL('./capacity-callers.js', import.meta.url)),
        [this.apiUrl, String(size), JSON.stringify(REALISTIC)],
        { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
      );
      child.on('message', (message: CallerMessage) => {
        if (message.type === 'turn') this.turns.push(message);
        else this.errors.push(message);
      });
      this.#groups.push({ process: child, count: size });
    }
  }

  /** Stops the newest groups until at most `calls` callers are left. */
  async shrinkTo(calls: number): Promise<void> {
    while (this.calls > calls) {
      const group = this.#groups.pop();
      if (group) await stopGroup(group.process);
    }
  }

  async stopAll(): Promise<void> {
    await this.shrinkTo(0);
  }
}

async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send('stop');
  const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
  await exited;
  clearTimeout(timer);
}

async function measureWindow(
  groups: CallerGroups,
  durationMs: number,
  overheadLimitMs: number,
): Promise<Window> {
  const start = Date.now();
  const before = sampleTree();
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  const seconds = (Date.now() - start) / 1000;
  const roles = statsBetween(before, sampleTree(), seconds);
  const turns = groups.turns.filter((turn) => turn.at >= start).map((turn) => turn.sample);
  const errors = groups.errors.filter((error) => error.at >= start).map((error) => error.message);
  const overhead = summarize(turns.map((turn) => turn.overheadMs));
  const voiceToVoice = summarize(turns.map((turn) => turn.voiceToVoiceMs));
  return {
    calls: groups.calls,
    seconds,
    turns: turns.length,
    errors,
    overheadP50: overhead.p50,
    overheadP95: overhead.p95,
    voiceToVoiceP50: voiceToVoice.p50,
    roles,
    passed: errors.length === 0 && turns.length > 0 && overhead.p95 <= overheadLimitMs,
  };
}

const describeRoles = (roles: Partial<Record<Role, RoleStats>>) =>
  Object.entries(roles)
    .map(
      ([role, stats]) =>
        `${role} ${stats.cpuCores.toFixed(2)} cores / ${Math.round(stats.rssMB)} MB (${stats.processes})`,
    )
    .join(', ');

export async function runCapacityBench({ quick }: BenchOptions): Promise<BenchSection> {
  const levels = quick ? [4] : [1, 4, 8, 12, 16, 20, 25, 30];
  const stepMs = quick ? 20_000 : 30_000;
  const holdMs = quick ? 0 : 300_000;
  const stack = await startTestStack(AGENT_ENV);
  const groups = new CallerGroups(stack.apiUrl);
  const ramp: Window[] = [];
  let hold: Window | undefined;
  let idle: Window | undefined;
  let overheadLimitMs = Number.POSITIVE_INFINITY;
  try {
    applyProfile(stack, REALISTIC);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    idle = await measureWindow(groups, IDLE_MS, overheadLimitMs);
    console.error(`capacity: idle stack; ${describeRoles(idle.roles)}`);
    for (const level of levels) {
      groups.add(level - groups.calls);
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const window = await measureWindow(groups, stepMs, overheadLimitMs);
      if (ramp.length === 0) overheadLimitMs = window.overheadP50 + ADDED_OVERHEAD_LIMIT_MS;
      ramp.push(window);
      console.error(
        `capacity: ${window.calls} calls, ${window.turns} turns, overhead p95 ${ms(window.overheadP95)}, ` +
          `${window.errors.length} errors; ${describeRoles(window.roles)}`,
      );
      if (!window.passed) break;
    }
    const best = ramp.filter((window) => window.passed).at(-1);
    if (best && holdMs > 0) {
      await groups.shrinkTo(best.calls);
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      hold = await measureWindow(groups, holdMs, overheadLimitMs);
    }
  } finally {
    await groups.stopAll();
    await stack.stop();
  }

  const best = hold ?? ramp.filter((window) => window.passed).at(-1);
  const failed = ramp.find((window) => !window.passed);
  const perCall = (stats: RoleStats | undefined, calls: number) =>
    stats
      ? `${(stats.cpuCores / calls).toFixed(3)} cores, ${Math.round(stats.rssMB / calls)} MB`
      : 'n/a';
  const server = (window: Window, figure: 'rssMB' | 'cpuCores') =>
    SERVER_ROLES.reduce((sum, role) => sum + (window.roles[role]?.[figure] ?? 0), 0);
  /** What the calls added to the idle stack, per call. */
  const marginal = (window: Window, figure: 'rssMB' | 'cpuCores') =>
    (server(window, figure) - (idle ? server(idle, figure) : 0)) / window.calls;
  const saturating = failed
    ? Object.entries(failed.roles)
        .filter(([role]) => role !== 'bench')
        .sort(([, a], [, b]) => b.cpuCores - a.cpuCores)[0]
    : undefined;
  const rows: BenchSection['rows'] = best
    ? [
        {
          figure: hold
            ? `concurrent calls held for ${Math.round(hold.seconds / 60)} min, load adding < 300 ms to p95 overhead`
            : 'concurrent calls with load adding < 300 ms to p95 overhead (ramp step, not held)',
          value: `${best.calls}${hold && !hold.passed ? ' (did not hold)' : ''}`,
          baseline: `${best.turns} turns, overhead p50 ${ms(best.overheadP50)} / p95 ${ms(best.overheadP95)}; 1 call p50 ${ms(ramp[0]?.overheadP50 ?? Number.NaN)}`,
          target: `≥ ${TARGET_CALLS}`,
          met: best.calls >= TARGET_CALLS && (hold?.passed ?? false),
        },
        {
          figure:
            'server memory per call, marginal ((RSS at N calls − idle RSS) ÷ N; LiveKit + API + worker + jobs + inference)',
          value: `${Math.round(marginal(best, 'rssMB'))} MB`,
          baseline: `idle stack ${Math.round(idle ? server(idle, 'rssMB') : Number.NaN)} MB`,
          target: `≤ ${TARGET_MARGINAL_RSS_MB} MB`,
          met: marginal(best, 'rssMB') <= TARGET_MARGINAL_RSS_MB,
        },
        {
          figure:
            'server CPU per active call (LiveKit + API + worker + jobs + inference, callers excluded)',
          value: `${(server(best, 'cpuCores') / best.calls).toFixed(3)} cores`,
          baseline: `idle stack ${(idle ? server(idle, 'cpuCores') : Number.NaN).toFixed(3)} cores`,
          target: `≤ ${TARGET_CPU_PER_CALL} cores`,
          met: server(best, 'cpuCores') / best.calls <= TARGET_CPU_PER_CALL,
        },
        {
          figure: `agent job processes per call (${AGENT_ENV.AGENT_JOBS_PER_PROCESS} calls per process at most)`,
          value: perCall(best.roles['agent jobs'], best.calls),
        },
        { figure: 'LiveKit per call', value: perCall(best.roles.livekit, best.calls) },
      ]
    : [
        {
          figure: 'concurrent calls with p95 overhead < 300 ms',
          value: '0',
          target: `≥ ${TARGET_CALLS}`,
          met: false,
        },
      ];
  return {
    key: 'capacity',
    title: 'Concurrent calls on this machine',
    rows,
    notes: [
      `Each call: a scripted caller (rtc-node, in ${CALLERS_PER_PROCESS}-caller processes) speaking a question, waiting for the answer, then the next, with the realistic provider profile and endpointing capped at 500 ms; steps of ${stepMs / 1000} s after ${SETTLE_MS / 1000} s to settle. A step passes with no failed turn and p95 overhead ≤ the single call's p50 + ${ADDED_OVERHEAD_LIMIT_MS} ms (${ms(overheadLimitMs)}).`,
      ...ramp.map(
        (window) =>
          `${window.calls} calls: ${window.turns} turns, overhead p50 ${ms(window.overheadP50)} / p95 ${ms(window.overheadP95)}, voice-to-voice p50 ${ms(window.voiceToVoiceP50)}, ${window.errors.length} errors${window.errors[0] ? ` (${window.errors[0]})` : ''}; ${describeRoles(window.roles)}`,
      ),
      ...(saturating
        ? [
            `First to saturate at ${failed?.calls} calls: ${saturating[0]} (${saturating[1].cpuCores.toFixed(2)} cores).`,
          ]
        : []),
      'The callers ("bench") run on the same two cores as the server.',
    ],
    data: { idle, ramp, hold },
  };
}
