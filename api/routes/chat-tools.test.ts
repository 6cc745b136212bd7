/**
 * Tools in text chat without a call, on the real app and store: the chat LLM's tool loop calls the
 * session's own HTTP tools, TOOLS_FILE's and an MCP server's, gives their results (or failures)
 * back to the LLM, and logs tool_call / tool_result / error events; POST /api/sessions checks the
 * tools a session brings.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PROJECT_ROOT } from '../../common/paths.js';
import type { ChatResponse, SessionEvent } from '../../common/protocol.js';
import { messageText, replyWithTool } from '../../test/providers/openai.js';
import { speechWav } from '../../test/support/audio-fixtures.js';
import { type FakeProviders, startFakeProviders } from '../../test/support/fake-providers.js';
import { orderStatus, startMcpToolServer } from '../../test/support/mcp-tool-server.js';
import {
  buildTestApp,
  errorShape,
  openTestStore,
  postForm,
  postJson,
  type TestApp,
  testConfig,
} from '../../test/support/test-app.js';
import { startToolServer, weatherTool } from '../../test/support/tool-server.js';
import { MAX_TOOL_STEPS } from '../chat/llm.js';
import { type ChatTools, openChatTools } from '../chat/tools.js';
import type { SessionRecord } from '../store/types.js';

const SECRET = 'tools-secret';
const { store, remove: removeStore } = await openTestStore();
const toolServer = await startToolServer(SECRET);
const mcpServer = await startMcpToolServer();
const dir = await mkdtemp(join(tmpdir(), 'chat-tools-'));
const toolsFile = join(dir, 'tools.json');
await writeFile(
  toolsFile,
  JSON.stringify({
    tools: [weatherTool(toolServer.urlOf('get_weather'))],
  }),
);
afterAll(async () => {
  await Promise.all([removeStore(), toolServer.close(), mcpServer.close()]);
  await rm(dir, { recursive: true, force: true });
});

let providers: FakeProviders;
let tools: ChatTools;
let app: TestApp;
let env: Record<string, string>;
beforeEach(async () => {
  providers = await startFakeProviders();
  env = {
    ...providers.env,
    TOOLS_FILE: toolsFile,
    TOOLS_SIGNING_SECRET: SECRET,
    MCP_SERVERS: mcpServer.url,
  };
  tools = await openChatTools(testConfig(env), pino({ level: 'silent' }));
  await tools.ready();
  app = buildTestApp({ store, env, tools }).app;
  toolServer.calls.length = 0;
});
afterEach(() => Promise.all([providers.close(), tools.close()]));

async function chat(body: object, token?: string): Promise<ChatResponse> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const response = await app.request('/api/chat', postJson(JSON.stringify(body), headers));
  expect(response.status).toBe(200);
  return (await response.json()) as ChatResponse;
}

const toolEvents = async (sessionId: string) =>
  (await store.readEvents(sessionId, 0, 100))
    .filter((e) =>
      ['tool_call', 'tool_result', 'error', 'conversation_item'].includes(e.event_type),
    )
    .map(({ session_id, seq, timestamp, ...event }: SessionEvent) => event);

const weatherReply = replyWithTool(
  /weather/i,
  { name: 'get_weather', arguments: { city: 'Paris' } },
  (result) => `The tool says: ${result}`,
);

describe('tools in text chat', () => {
  it('call a configured HTTP tool, signed, and answer from its result', async () => {
    toolServer.behave('get_weather', { result: { forecast: 'sunny, 21 degrees' } });
    providers.openai.setReply(weatherReply);

    const reply = await chat({ message: 'What is the weather in Paris?' });

    expect(reply.message).toBe('The tool says: {"forecast":"sunny, 21 degrees"}');
    expect(toolServer.calls).toMatchObject([
      {
        body: { session_id: reply.sessionId, tool: 'get_weather', arguments: { city: 'Paris' } },
        signatureValid: true,
      },
    ]);
    const [first, second] = providers.openai.chatRequests();
    expect(first?.tools).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ function: expect.objectContaining({ name: 'get_weather' }) }),
        expect.objectContaining({ function: expect.objectContaining({ name: 'order_status' }) }),
      ]),
    );
    // The second request carries the assistant's call and the tool's answer, as OpenAI expects.
    const callId = toolServer.calls[0]?.body.call_id;
    expect(second?.messages.slice(-2)).toMatchObject([
      { role: 'assistant', tool_calls: [{ id: callId, function: { name: 'get_weather' } }] },
      { role: 'tool', tool_call_id: callId, content: '{"forecast":"sunny, 21 degrees"}' },
    ]);
    expect(await toolEvents(reply.sessionId)).toStrictEqual([
      expect.objectContaining({ event_type: 'conversation_item', role: 'user' }),
      {
        event_type: 'tool_call',
        call_id: callId,
        name: 'get_weather',
        arguments: { city: 'Paris' },
      },
      {
        event_type: 'tool_result',
        call_id: callId,
        name: 'get_weather',
        ok: true,
        duration_ms: expect.any(Number),
      },
      expect.objectContaining({
        event_type: 'conversation_item',
        role: 'assistant',
        text: reply.message,
      }),
    ]);
  });

  it('call a tool for a voice message, and speak the answer', async () => {
    toolServer.behave('get_weather', { result: { forecast: 'foggy' } });
    providers.openai.setReply(weatherReply);
    providers.deepgram.scriptTranscripts(['What is the weather like in Paris?']);
    const audio = new File([await speechWav()], 'message.wav', { type: 'audio/wav' });

    const response = await app.request('/api/chat', postForm({ type: 'voice', audio }));

    expect(response.status).toBe(200);
    const reply = (await response.json()) as ChatResponse;
    expect(reply).toMatchObject({
      type: 'voice',
      transcript: 'What is the weather like in Paris?',
      message: 'The tool says: {"forecast":"foggy"}',
      audioUrl: expect.any(String),
    });
    expect(toolServer.calls.map((call) => call.body.tool)).toStrictEqual(['get_weather']);
  });

  it('call an MCP server’s tool', async () => {
    providers.openai.setReply(
      replyWithTool(
        /order/i,
        { name: 'order_status', arguments: { orderId: 'B-52' } },
        (result) => `Here is what I found: ${result}`,
      ),
    );
    const reply = await chat({ message: 'Where is my order B-52?' });
    expect(reply.message).toBe(`Here is what I found: ${orderStatus('B-52')}`);
    expect(mcpServer.calls).toContainEqual({ orderId: 'B-52' });
  });

  it('end a turn quietly when the client leaves while a tool runs', async () => {
    toolServer.behave('get_weather', { result: { forecast: 'late' }, delayMs: 5000 });
    providers.openai.setReply(weatherReply);
    const errors: string[] = [];
    const logger = pino({ level: 'error' }, { write: (line: string) => errors.push(line) });
    const logged = buildTestApp({ store, env, tools, logger }).app;
    const leaving = new AbortController();

    const request = new Request('http://localhost/api/chat', {
      ...postJson(JSON.stringify({ message: 'What is the weather in Paris?' })),
      signal: leaving.signal,
    });
    const response = Promise.resolve(logged.request(request)).catch(() => undefined);
    await vi.waitFor(() => expect(toolServer.calls).toHaveLength(1));
    leaving.abort();
    await response;

    expect(errors).toStrictEqual([]);
    expect(providers.openai.chatRequests()).toHaveLength(1);
  });

  it('tell the LLM a failed tool gave no result, and log tool_failed', async () => {
    toolServer.behave('get_weather', { status: 502 });
    providers.openai.setReply(weatherReply);

    const reply = await chat({ message: 'What is the weather?' });

    const told = messageText(providers.openai.chatRequests()[1]?.messages.at(-1));
    expect(told).toBe(
      'The tool get_weather failed (get_weather answered HTTP 502). Its result is unknown: tell the user briefly that it did not work this time, and do not guess a result.',
    );
    expect(reply.message).toBe(`The tool says: ${told}`);
    const events = await toolEvents(reply.sessionId);
    expect(events.map((e) => e.event_type)).toStrictEqual([
      'conversation_item',
      'tool_call',
      'tool_result',
      'error',
      'conversation_item',
    ]);
    expect(events[3]).toMatchObject({ error_code: 'tool_failed', recoverable: true });
  });

  it('use a session’s own tools, and stop calling tools after the last round', async () => {
    const created = await app.request(
      '/api/sessions',
      postJson(
        JSON.stringify({
          voice: false,
          tools: [
            {
              name: 'check_stock',
              description: 'Whether an item is in stock.',
              url: toolServer.urlOf('check_stock'),
            },
          ],
        }),
      ),
    );
    expect(created.status).toBe(201);
    const { sessionId, sessionToken } = (await created.json()) as {
      sessionId: string;
      sessionToken: string;
    };
    toolServer.behave('check_stock', { result: { inStock: 3 } });
    // An LLM that asks for the tool again and again, until it is not offered the choice.
    providers.openai.setReply((_, request) =>
      request.tool_choice === 'none'
        ? 'In stock.'
        : { toolCalls: [{ name: 'check_stock', arguments: {} }] },
    );

    const reply = await chat({ message: 'Is it in stock?', sessionId }, sessionToken);

    expect(reply.message).toBe('In stock.');
    expect(toolServer.calls).toHaveLength(MAX_TOOL_STEPS);
    expect(toolServer.calls[0]?.body).toMatchObject({ session_id: sessionId, tool: 'check_stock' });
  });

  it('run no more tool rounds when an LLM asks for tools even when told not to', async () => {
    toolServer.behave('get_weather', { result: { tempC: 12 } });
    providers.openai.setReply(() => ({
      toolCalls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }],
    }));

    const response = await app.request(
      '/api/chat',
      postJson(JSON.stringify({ message: 'Weather in Oslo?' })),
    );

    expect({ status: response.status, body: await response.json() }).toStrictEqual({
      status: 502,
      body: errorShape(
        'llm_request_rejected',
        `The language model asked for tools again after ${MAX_TOOL_STEPS} rounds instead of answering.`,
      ),
    });
    expect(toolServer.calls).toHaveLength(MAX_TOOL_STEPS);
  });
});

describe('MCP servers in text chat', () => {
  it('connect again, a while later, to a server whose connection was lost', async () => {
    const stdio = {
      command: process.execPath,
      args: [join(PROJECT_ROOT, 'test', 'fixtures', 'mcp', 'stdio-server.mjs')],
    };
    const config = testConfig({ ...providers.env, MCP_SERVERS: JSON.stringify([stdio]) });
    const chatTools = await openChatTools(config, pino({ level: 'silent' }));
    const toolbox = () => chatTools.forSession({ sessionId: 's-lost' } as SessionRecord, () => {});
    const names = () => toolbox().specs.map((spec) => spec.name);
    try {
      await chatTools.ready();
      expect(names()).toContain('add');

      await toolbox().run('exit', {}, 'x1');
      await vi.waitFor(() => expect(names()).toStrictEqual([]));
      const later = Date.now() + 30_000;
      vi.spyOn(Date, 'now').mockReturnValue(later);
      expect(names()).toStrictEqual([]);
      vi.restoreAllMocks();
      await chatTools.ready();

      expect(names()).toContain('add');
    } finally {
      vi.restoreAllMocks();
      await chatTools.close();
    }
  });
});

describe('tools a session brings to POST /api/sessions', () => {
  it.each([
    [{ name: 'bad name', description: 'x', url: 'https://e.com' }, /tools\.0\.name/],
    [
      { name: 'a', description: 'x', url: 'https://e.com', parameters: { type: 'array' } },
      /parameters/,
    ],
    [{ name: 'a', description: 'x' }, /tools\.0\.url/],
  ])('refuse a bad declaration with 400 invalid_request (%#)', async (tool, message) => {
    const response = await app.request(
      '/api/sessions',
      postJson(JSON.stringify({ voice: false, tools: [tool] })),
    );
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body).toMatchObject(errorShape('invalid_request', expect.stringMatching(message)));
  });

  it('refuse them in production without TOOLS_SIGNING_SECRET', async () => {
    const production = buildTestApp({
      store,
      env: { ...providers.env, NODE_ENV: 'production', API_KEYS: 'k1' },
    }).app;
    const response = await production.request(
      '/api/sessions',
      postJson(
        JSON.stringify({
          voice: false,
          tools: [{ name: 'a', description: 'x', url: 'https://e.com/a' }],
        }),
        { authorization: 'Bearer k1' },
      ),
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject(
      errorShape('invalid_request', expect.stringContaining('TOOLS_SIGNING_SECRET')),
    );
  });
});
