/**
 * Our patch of @livekit/agents (patches/@livekit+agents+1.9.0.patch, applied by `postinstall`) is
 * in place: ServerOptions carries `createProcPool` (through the CLI's re-construction), the worker
 * builds its pool with it, and the framework files the shared job processes use can be imported.
 * Fails after an install that skipped the patch; run `npx patch-package` then.
 */
import { fileURLToPath } from 'node:url';
import {
  AgentServer,
  initializeLogger,
  type ProcPoolFactory,
  type ProcPoolOptions,
  ServerOptions,
} from '@livekit/agents';
import { describe, expect, it } from 'vitest';

const agent = fileURLToPath(new URL('../../agent/job.ts', import.meta.url));

describe('the @livekit/agents patch', () => {
  it('lets the worker build its job pool with createProcPool', () => {
    const built: ProcPoolOptions[] = [];
    const createProcPool: ProcPoolFactory = (options) => {
      built.push(options);
      return {
        processes: [],
        getByJobId: () => null,
        launchJob: async () => {},
        start() {},
        close: async () => {},
      };
    };
    const options = new ServerOptions({
      agent,
      createProcPool,
      apiKey: 'devkey',
      apiSecret: 'secret',
      simulation: true,
      jobMemoryWarnMB: 700,
    });
    // cli.runApp builds ServerOptions again from a spread of the one it is given.
    const rebuilt = new ServerOptions({ ...options, production: true });
    expect(rebuilt.createProcPool).toBe(createProcPool);
    initializeLogger({ pretty: false, level: 'silent' });
    new AgentServer(rebuilt);
    expect(built).toMatchObject([{ agent, memoryWarnMB: 700 }]);
  });

  it('exports the framework files the shared job processes use', async () => {
    const modules = await Promise.all([
      import('@livekit/agents/dist/ipc/supervised_proc.js'),
      import('@livekit/agents/dist/ipc/job_executor.js'),
      import('@livekit/agents/dist/job_lifecycle.js'),
    ]);
    expect(modules.map((m) => Object.keys(m).length > 0)).toEqual([true, true, true]);
  });
});
