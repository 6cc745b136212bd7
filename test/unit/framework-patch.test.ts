/**
 * Our patch of @livekit/agents (patches/@livekit+agents+1.9.0.patch, applied by `postinstall`) is
 * in place: ServerOptions carries `createProcPool` (through the CLI's re-construction), the worker
 * builds its pool with it, the framework files the shared job processes use can be imported, the
 * room input takes a frame size and can leave out session messages, and AudioByteStream copies
 * each write once. Fails after an install that skipped the patch; run `npx patch-package` then.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AgentServer,
  AudioByteStream,
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
      import('@livekit/agents/dist/log_core.js'),
    ]);
    expect(modules.map((m) => Object.keys(m).length > 0)).toEqual([true, true, true, true]);
  });

  it('splits AudioByteStream writes into whole frames, keeping the rest for the next write', () => {
    const stream = new AudioByteStream(16_000, 1, 4);
    const bytes = Int16Array.from({ length: 10 }, (_, i) => i + 1);
    const view = new Uint8Array(bytes.buffer);
    const frames = [...stream.write(view.subarray(0, 5)), ...stream.write(view.subarray(5))];
    expect(frames.map((frame) => [...frame.data])).toEqual([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
    expect(stream.flush().map((frame) => [...frame.data])).toEqual([[9, 10]]);
    // The framework spread every buffered byte into an array on each write (per 10 ms frame).
    expect(AudioByteStream.prototype.write.toString()).not.toContain('...this.#buf');
  });

  it('passes the room input frame size to the audio stream and can leave out session messages', () => {
    const dist = dirname(createRequire(import.meta.url).resolve('@livekit/agents'));
    const source = (file: string) => readFileSync(join(dist, file), 'utf8');
    expect(source('voice/room_io/room_io.js')).toContain(
      'frameSizeMs: this.inputOptions.audioFrameSizeMs',
    );
    expect(source('voice/room_io/_input.js')).toContain('frameSizeMs: this.frameSizeMs');
    expect(source('voice/agent_session.js')).toContain(
      'inputOptions.sessionMessagesEnabled) !== false',
    );
  });
});
