/**
 * The toolbox against real servers on loopback: a user's HTTP tool backend (signed calls, delays,
 * errors) and an MCP server built with the SDK.
 */
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { orderStatus, startMcpToolServer } from '../../test/support/mcp-tool-server.js';
import { startToolServer } from '../../test/support/tool-server.js';
import { PROJECT_ROOT } from '../paths.js';
import type { SessionEventBody } from '../protocol.js';
import { type HttpTool, httpToolSchema, type McpServer } from './declarations.js';
import { connectMcpServers } from './mcp-tools.js';
import { createToolbox, type ToolboxOptions } from './toolbox.js';

const SECRET = 'tool-signing-secret';
const tools = await startToolServer(SECRET);
const mcpServer = await startMcpToolServer();
afterAll(() => Promise.all([tools.close(), mcpServer.close()]));

const silent = { info() {}, warn() {}, debug() {} };
let events: SessionEventBody[];
beforeEach(() => {
  events = [];
  tools.calls.length = 0;
});

const httpTool = (name: string, fields: Partial<HttpTool> = {}): HttpTool =>
  httpToolSchema.parse({
    name,
    description: `The ${name} tool.`,
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    url: tools.urlOf(name),
    ...fields,
  });

const stdioServer = () => ({
  command: process.execPath,
  args: [join(PROJECT_ROOT, 'test', 'fixtures', 'mcp', 'stdio-server.mjs')],
  timeoutMs: 10_000,
});

const toolbox = (options: Partial<ToolboxOptions> = {}) =>
  createToolbox({
    sessionId: 's1',
    http: [],
    mcp: [],
    signingSecret: SECRET,
    report: (event) => events.push(event),
    log: silent,
    ...options,
  });

describe('HTTP tools', () => {
  it('POST a signed call and answer the body, reporting the call and its result', async () => {
    tools.behave('get_weather', { result: (args) => ({ city: args.city, forecast: 'sunny' }) });
    const box = toolbox({ http: [httpTool('get_weather')] });
    expect(box.specs.map((spec) => spec.name)).toStrictEqual(['get_weather']);

    const outcome = await box.run('get_weather', { city: 'Paris' }, 'call_1');

    expect(outcome).toStrictEqual({ ok: true, output: '{"city":"Paris","forecast":"sunny"}' });
    expect(tools.calls).toMatchObject([
      {
        path: '/tools/get_weather',
        body: {
          session_id: 's1',
          tool: 'get_weather',
          arguments: { city: 'Paris' },
          call_id: 'call_1',
        },
        signatureValid: true,
      },
    ]);
    expect(events).toStrictEqual([
      {
        event_type: 'tool_call',
        call_id: 'call_1',
        name: 'get_weather',
        arguments: { city: 'Paris' },
      },
      {
        event_type: 'tool_result',
        call_id: 'call_1',
        name: 'get_weather',
        ok: true,
        duration_ms: expect.any(Number),
      },
    ]);
  });

  it('send calls unsigned without a secret (the receiver sees no valid signature)', async () => {
    await toolbox({ http: [httpTool('get_weather')], signingSecret: undefined }).run(
      'get_weather',
      { city: 'Oslo' },
      'call_2',
    );
    expect(tools.calls[0]?.headers['x-voice-agent-signature']).toBeUndefined();
    expect(tools.calls[0]?.signatureValid).toBe(false);
  });

  it('refuse arguments that do not match the schema, without calling the tool', async () => {
    const box = toolbox({ http: [httpTool('get_weather')] });
    const outcome = await box.run('get_weather', { town: 'Paris' }, 'call_3');
    expect(outcome).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^invalid arguments/),
    });
    expect(await box.run('get_weather', 'Paris', 'call_4')).toMatchObject({
      ok: false,
      message: 'invalid arguments: not a JSON object',
    });
    expect(tools.calls).toHaveLength(0);
  });

  it('report a failure as tool_result not ok and a recoverable tool_failed, never a result', async () => {
    tools.behave('book_table', { status: 500 });
    const outcome = await toolbox({ http: [httpTool('book_table')] }).run(
      'book_table',
      { city: 'Rome' },
      'call_5',
    );
    expect(outcome).toStrictEqual({ ok: false, message: 'book_table answered HTTP 500' });
    expect(events.map((event) => event.event_type)).toStrictEqual([
      'tool_call',
      'tool_result',
      'error',
    ]);
    expect(events[1]).toMatchObject({ ok: false });
    expect(events[2]).toStrictEqual({
      event_type: 'error',
      error_code: 'tool_failed',
      error_message: 'The tool book_table failed: book_table answered HTTP 500',
      recoverable: true,
    });
  });

  it('give up after the timeout', async () => {
    tools.behave('slow', { delayMs: 1000 });
    const outcome = await toolbox({ http: [httpTool('slow', { timeoutMs: 200 })] }).run(
      'slow',
      { city: 'Lima' },
      'call_6',
    );
    expect(outcome).toStrictEqual({ ok: false, message: 'slow no answer within 200 ms' });
  });

  it('send a call once, and an idempotent one twice when the tool is unavailable', async () => {
    tools.behave('book_table', { status: 503 });
    await toolbox({ http: [httpTool('book_table')] }).run('book_table', { city: 'Rome' }, 'c7');
    expect(tools.calls).toHaveLength(1);

    tools.calls.length = 0;
    tools.behave('get_weather', { status: 503 });
    const idempotent = httpTool('get_weather', { idempotent: true });
    await toolbox({ http: [idempotent] }).run('get_weather', { city: 'Rome' }, 'c8');
    expect(tools.calls.map((call) => call.body.call_id)).toStrictEqual(['c8', 'c8']);
  });

  it('refuse a redirect, and send even an idempotent call once', async () => {
    tools.behave('get_weather', { redirectTo: tools.urlOf('elsewhere') });
    const idempotent = httpTool('get_weather', { idempotent: true });
    const outcome = await toolbox({ http: [idempotent] }).run(
      'get_weather',
      { city: 'Rome' },
      'c10',
    );
    expect(outcome).toStrictEqual({
      ok: false,
      message: 'get_weather answered with a redirect, which is not followed',
    });
    expect(tools.calls.map((call) => call.path)).toStrictEqual(['/tools/get_weather']);
  });

  it('refuse a result over 32 KiB rather than cut it', async () => {
    tools.behave('big', { result: 'x'.repeat(40_000) });
    const outcome = await toolbox({ http: [httpTool('big')] }).run('big', { city: 'Rome' }, 'c9');
    expect(outcome).toStrictEqual({ ok: false, message: 'big answered more than 32768 bytes' });
  });

  it('report a call cut off by its turn’s end as not ok, without a tool failure', async () => {
    tools.behave('slow', { delayMs: 1000 });
    const abort = new AbortController();
    const running = toolbox({ http: [httpTool('slow')] }).run(
      'slow',
      { city: 'Lima' },
      'c11',
      abort.signal,
    );
    setTimeout(() => abort.abort(), 100);
    await expect(running).rejects.toThrow();
    expect(events.map((event) => event.event_type)).toStrictEqual(['tool_call', 'tool_result']);
    expect(events[1]).toMatchObject({ ok: false });
  });

  it('answer an unknown tool with a failure', async () => {
    expect(await toolbox().run('nope', {}, 'c10')).toStrictEqual({
      ok: false,
      message: 'nope is not a tool of this session',
    });
  });

  it('keep the first of two tools with one name (the session’s own before the configured)', async () => {
    const own = httpTool('get_weather', { description: 'The session’s own.' });
    const box = toolbox({ http: [own, httpTool('get_weather')] });
    expect(box.specs.map((spec) => spec.description)).toStrictEqual(['The session’s own.']);
  });
});

describe('MCP servers', () => {
  it('list the tools of a server and call them through the SDK client', async () => {
    const connection = await connectMcpServers([
      { url: mcpServer.url, headers: { authorization: 'Bearer mcp-key' }, timeoutMs: 5000 },
    ]);
    try {
      expect(connection.failures).toStrictEqual([]);
      const box = toolbox({ mcp: connection.tools });
      expect(box.specs).toMatchObject([
        {
          name: 'order_status',
          description: 'Tells where an order is.',
          parameters: { type: 'object', required: ['orderId'] },
        },
      ]);
      expect(await box.run('order_status', { orderId: 'A-17' }, 'm1')).toStrictEqual({
        ok: true,
        output: orderStatus('A-17'),
      });
      expect(mcpServer.calls).toContainEqual({ orderId: 'A-17' });
      expect(mcpServer.authorizations.at(-1)).toBe('Bearer mcp-key');
    } finally {
      await connection.close();
    }
  });

  it('run a local server by its command (stdio)', async () => {
    const connection = await connectMcpServers([stdioServer()]);
    try {
      expect(connection.failures).toStrictEqual([]);
      const box = toolbox({ mcp: connection.tools });
      expect(await box.run('add', { a: 2, b: 40 }, 'm2')).toStrictEqual({ ok: true, output: '42' });
      expect(await box.run('add', { a: 'two' }, 'm3')).toMatchObject({ ok: false });
      expect(await box.run('big', {}, 'm4')).toStrictEqual({
        ok: false,
        message: 'big answered more than 32768 bytes',
      });
    } finally {
      await connection.close();
    }
  });

  it('leave out a tool whose name an LLM cannot call, saying which', async () => {
    const connection = await connectMcpServers([stdioServer()]);
    try {
      expect(connection.tools.map((tool) => tool.name)).toStrictEqual([
        'add',
        'env',
        'big',
        'exit',
      ]);
      expect(connection.leftOut).toStrictEqual([
        {
          server: process.execPath,
          tool: 'docs.search',
          reason: 'must be 1–64 letters, digits, _ or -',
        },
      ]);
    } finally {
      await connection.close();
    }
  });

  it('give a stdio server its env, and none of this process’s secrets', async () => {
    process.env.TOOLBOX_TEST_SECRET = 'not for children';
    const connection = await connectMcpServers([{ ...stdioServer(), env: { GREETING: 'hi' } }]);
    try {
      const outcome = await toolbox({ mcp: connection.tools }).run('env', {}, 'm5');
      const env = JSON.parse(outcome.ok ? outcome.output : '{}') as Record<string, string>;
      expect(env.GREETING).toBe('hi');
      expect(env.PATH).toBe(process.env.PATH);
      expect(env.TOOLBOX_TEST_SECRET).toBeUndefined();
    } finally {
      delete process.env.TOOLBOX_TEST_SECRET;
      await connection.close();
    }
  });

  it('say when a server’s connection is lost (a stdio server exited), and not when closed', async () => {
    const lost: string[] = [];
    const onLost = (server: McpServer) => lost.push('command' in server ? 'stdio' : 'http');
    const crashing = await connectMcpServers([stdioServer()], { onLost });
    await toolbox({ mcp: crashing.tools }).run('exit', {}, 'm6');
    await vi.waitFor(() => expect(lost).toStrictEqual(['stdio']));
    await crashing.close();

    const closed = await connectMcpServers([stdioServer()], { onLost });
    await closed.close();
    expect(lost).toStrictEqual(['stdio']);
  });

  it('leave out a server that cannot be reached, saying which', async () => {
    const connection = await connectMcpServers([
      { url: 'http://127.0.0.1:9/mcp', timeoutMs: 2000 },
      { url: mcpServer.url, timeoutMs: 5000 },
    ]);
    try {
      expect(connection.tools.map((tool) => tool.name)).toStrictEqual(['order_status']);
      expect(connection.failures).toMatchObject([{ server: 'http://127.0.0.1:9/mcp' }]);
    } finally {
      await connection.close();
    }
  });
});
