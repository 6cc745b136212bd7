/**
 * Tools through the real stack: a spoken question that needs a tool reaches the user's tool
 * server as a signed call and the answer spoken uses its result; a slow tool gets a filler first;
 * a failing tool gets an apology and `tool_failed`, and the call goes on; an MCP server's tool is
 * called from a voice turn and from text chat, while another MCP server never answers (it holds up
 * neither the call nor the other server's tools).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatResponse, SessionEvent } from '../../common/protocol.js';
import { defaultReply, type ReplyFunction, replyWithTool } from '../providers/openai.js';
import { ScriptedCaller } from '../support/caller.js';
import { startTestStack, type TestStack } from '../support/harness.js';
import { type McpToolServer, orderStatus, startMcpToolServer } from '../support/mcp-tool-server.js';
import { FeedSubscriber } from '../support/sse.js';
import { startToolServer, type ToolServer } from '../support/tool-server.js';

const SECRET = 'e2e-tools-secret';
const FILLER = 'Just a second, I am looking that up for you right now.';
const APOLOGY = 'Sorry, I could not check that right now.';

type Finished = Extract<SessionEvent, { event_type: 'agent_finished' }>;
const finished = (events: SessionEvent[]) =>
  events.filter((e): e is Finished => e.event_type === 'agent_finished');

describe('tools the agent calls', () => {
  let stack: TestStack;
  let tools: ToolServer;
  let mcp: McpToolServer;
  /** Takes connections and never answers. */
  let silent: Server;
  const held: Socket[] = [];

  beforeAll(async () => {
    [tools, mcp] = await Promise.all([startToolServer(SECRET), startMcpToolServer()]);
    silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}/mcp`;
    const file = join(mkdtempSync(join(tmpdir(), 'e2e-tools-')), 'tools.yaml');
    writeFileSync(
      file,
      [
        'tools:',
        '  - name: get_weather',
        '    description: The weather forecast for a city.',
        '    parameters:',
        '      type: object',
        '      properties: { city: { type: string } }',
        '      required: [city]',
        `    url: ${tools.urlOf('get_weather')}`,
        '    timeoutMs: 5000',
      ].join('\n'),
    );
    stack = await startTestStack({
      TOOLS_FILE: file,
      TOOLS_SIGNING_SECRET: SECRET,
      MCP_SERVERS: JSON.stringify([{ url: silentUrl, timeoutMs: 60_000 }, { url: mcp.url }]),
      TOOL_FILLER_AFTER_MS: '700',
      TOOL_FILLER_TEXT: FILLER,
    });
  });
  afterAll(async () => {
    await stack?.stop();
    for (const socket of held) socket.destroy();
    silent?.close();
    await Promise.all([tools?.close(), mcp?.close()]);
  });

  /**
   * A call in which the caller asks `question` once the agent is idle; answers the feed. With
   * `warmUp`, a first exchange comes before: the framework ignores barge-in during the agent's
   * first 3 s of speech in a call (echo cancellation warming up).
   */
  async function askInCall(question: string, reply: ReplyFunction, { warmUp = false } = {}) {
    const caller = await ScriptedCaller.join(stack.apiUrl);
    const feed = await FeedSubscriber.open(caller.session.eventsUrl, caller.session.sessionToken);
    await caller.waitForTurnState('idle', 0, 30_000);
    if (warmUp) {
      stack.openai.setReply(() => 'Hello! I am here, ask me anything you like about the weather.');
      stack.deepgram.scriptTranscripts(['Hello there.']);
      await caller.say('Hello there.');
      await feed.waitFor((e) => e.event_type === 'agent_finished', 30_000);
      await caller.waitForTurnState('idle', 0, 20_000);
    }
    stack.openai.setReply(reply);
    stack.deepgram.scriptTranscripts([question]);
    await caller.say(question);
    return { caller, feed };
  }

  /** The reply about the weather: the tool's forecast, or the apology when it failed. */
  const weatherReply = replyWithTool(
    /weather/i,
    { name: 'get_weather', arguments: { city: 'Paris' } },
    (result) => (result.includes('failed') ? APOLOGY : `It is ${JSON.parse(result).forecast}.`),
  );

  it('answers a spoken question with a signed tool call’s result', async () => {
    tools.behave('get_weather', { result: { forecast: 'sunny and mild' } });
    const { caller, feed } = await askInCall('What is the weather in Paris?', weatherReply);
    try {
      const answer = await feed.waitFor(
        (e) => e.event_type === 'agent_finished' && e.text.includes('sunny'),
        30_000,
      );
      expect(answer).toMatchObject({ text: 'It is sunny and mild.', interrupted: false });
      const call = tools.calls.at(-1);
      expect(call).toMatchObject({
        body: {
          session_id: caller.session.sessionId,
          tool: 'get_weather',
          arguments: { city: 'Paris' },
          call_id: expect.any(String),
        },
        signatureValid: true,
      });
      const toolCall = feed.events.find((e) => e.event_type === 'tool_call');
      const toolResult = feed.events.find((e) => e.event_type === 'tool_result');
      expect(toolCall).toMatchObject({
        call_id: call?.body.call_id,
        name: 'get_weather',
        arguments: { city: 'Paris' },
      });
      expect(toolResult).toMatchObject({ call_id: call?.body.call_id, ok: true });
      expect(feed.events.some((e) => e.event_type === 'error')).toBe(false);
    } finally {
      await feed.close();
      await caller.leave();
    }
  });

  it('says a filler while a slow tool runs, then the answer', async () => {
    tools.behave('get_weather', { result: { forecast: 'rainy' }, delayMs: 2500 });
    const { caller, feed } = await askInCall('And the weather tomorrow?', weatherReply);
    try {
      await feed.waitFor(
        (e) => e.event_type === 'agent_finished' && e.text.includes('rainy'),
        30_000,
      );
      const [filler, answer, ...more] = finished(feed.events);
      expect(filler?.text).toMatch(/^Just a second/);
      expect(answer?.text).toBe('It is rainy.');
      expect(more).toStrictEqual([]);
      // The filler began while the tool was still running.
      const resultSeq = feed.events.find((e) => e.event_type === 'tool_result')?.seq ?? 0;
      const fillerStart = feed.events.find((e) => e.event_type === 'agent_speaking')?.seq;
      expect(fillerStart).toBeLessThan(resultSeq);
      // The transcript holds the filler, as it was said (the LLM's context does not).
      const assistantItems = feed.events.filter(
        (e) => e.event_type === 'conversation_item' && e.role === 'assistant',
      );
      expect(assistantItems.map((e) => (e as { text: string }).text)).toStrictEqual([
        FILLER,
        'It is rainy.',
      ]);
      const lastRequest = stack.openai.chatRequests().at(-1);
      expect(JSON.stringify(lastRequest?.messages)).not.toContain(FILLER);
    } finally {
      await feed.close();
      await caller.leave();
    }
  });

  it('lets the caller talk over the filler while a tool runs', async () => {
    tools.behave('get_weather', { result: { forecast: 'windy' }, delayMs: 4000 });
    const { caller, feed } = await askInCall('What is the weather on Sunday?', weatherReply, {
      warmUp: true,
    });
    try {
      const fillerStart = await feed.waitFor(
        (e) => e.event_type === 'agent_speaking' && e.text.includes('second'),
      );
      stack.deepgram.scriptTranscripts(['Actually, never mind, I will look outside.']);
      await caller.say('Actually, never mind, I will look outside.');
      const cut = await feed.waitFor(
        (e) => e.event_type === 'agent_finished' && e.seq > fillerStart.seq,
        20_000,
      );
      expect(cut).toMatchObject({ interrupted: true });
      await feed.waitFor(
        (e) => e.event_type === 'agent_finished' && e.text.includes('never mind'),
        30_000,
      );
    } finally {
      await feed.close();
      await caller.leave();
    }
  });

  it('apologises for a failing tool, reports tool_failed, and the call goes on', async () => {
    tools.behave('get_weather', { status: 500 });
    const { caller, feed } = await askInCall('What is the weather like?', weatherReply);
    try {
      const apology = await feed.waitFor(
        (e) => e.event_type === 'agent_finished' && e.text === APOLOGY,
        30_000,
      );
      expect(feed.events.find((e) => e.event_type === 'tool_result')).toMatchObject({ ok: false });
      expect(feed.events.find((e) => e.event_type === 'error')).toMatchObject({
        error_code: 'tool_failed',
        recoverable: true,
      });
      await caller.waitForTurnState('idle', 0, 20_000);
      stack.openai.setReply(defaultReply);
      stack.deepgram.scriptTranscripts(['Thank you anyway.']);
      await caller.say('Thank you anyway.');
      await feed.waitFor(
        (e) => e.event_type === 'agent_finished' && e.seq > apology.seq && /Thank you/.test(e.text),
        30_000,
      );
      expect(feed.events.some((e) => e.event_type === 'session_ended')).toBe(false);
    } finally {
      await feed.close();
      await caller.leave();
    }
  });

  const orderReply = replyWithTool(
    /order/i,
    { name: 'order_status', arguments: { orderId: 'C-3' } },
    (result) => `Good news. ${JSON.parse(result)}`,
  );

  it('calls an MCP server’s tool from a voice turn', async () => {
    const { caller, feed } = await askInCall('Where is my order?', orderReply);
    try {
      const answer = await feed.waitFor(
        (e) => e.event_type === 'agent_finished' && e.text.startsWith('Good news'),
        30_000,
      );
      expect((answer as Finished).text).toBe(`Good news. ${orderStatus('C-3')}`);
      expect(mcp.calls).toContainEqual({ orderId: 'C-3' });
    } finally {
      await feed.close();
      await caller.leave();
    }
  });

  it('calls the same tools from text chat without a call', async () => {
    stack.openai.setReply(
      replyWithTool(
        /order/i,
        { name: 'order_status', arguments: { orderId: 'D-4' } },
        (result) => `Good news. ${result}`,
      ),
    );
    const response = await fetch(`${stack.apiUrl}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'Where is order D-4?' }),
    });
    expect(response.status).toBe(200);
    const reply = (await response.json()) as ChatResponse;
    expect(reply.message).toBe(`Good news. ${orderStatus('D-4')}`);
    expect(mcp.calls).toContainEqual({ orderId: 'D-4' });
  });
});
