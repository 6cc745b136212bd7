/**
 * `POST /mcp` through the official SDK's own client over streamable HTTP, against the real app
 * served on loopback (fake LiveKit, the fake OpenAI server): the five tools, a text and a voice
 * conversation from start to end, the live call's agent answering a message, refusals as tool
 * errors with the API's codes, the API key, other keys' sessions, the limits, and the methods a
 * stateless server refuses.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultReply } from '../../test/providers/openai.js';
import { type FakeProviders, startFakeProviders } from '../../test/support/fake-providers.js';
import {
  buildTestApp,
  errorShape,
  ISO_TIME,
  openTestStore,
  sessionTokens,
} from '../../test/support/test-app.js';

const { store, remove: removeStore } = await openTestStore();
afterAll(removeStore);

let providers: FakeProviders;
const closers: (() => Promise<unknown>)[] = [];
beforeEach(async () => {
  providers = await startFakeProviders();
});
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  await providers.close();
});

/** The app on a loopback port, with the fake providers and `env`. */
async function serveApp(env: Record<string, string> = {}) {
  const built = buildTestApp({ store, env: { ...providers.env, ...env } });
  const server = serve({ fetch: built.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, url: `${origin}/mcp`, livekit: built.livekit };
}

async function connect(url: string, apiKey?: string) {
  const client = new Client({ name: 'mcp-test', version: '1.0.0' });
  const headers: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }),
  );
  closers.push(() => client.close());
  return client;
}

/** Calls a tool and answers its result, checking that its text is its structured content. */
async function call(client: Client, name: string, args: Record<string, unknown> = {}) {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const [content] = result.content;
  expect(content?.type).toBe('text');
  const text = content?.type === 'text' ? content.text : '';
  if (!result.isError) expect(JSON.parse(text)).toStrictEqual(result.structuredContent);
  return { ...result, text };
}

/** A successful call's structured content. */
async function callOk(client: Client, name: string, args: Record<string, unknown> = {}) {
  const result = await call(client, name, args);
  expect(result.isError, result.text).toBeFalsy();
  return result.structuredContent as Record<string, unknown> & { sessionId: string };
}

/** A refused call's error: the API's code and message. */
async function callRefused(client: Client, name: string, args: Record<string, unknown>) {
  const result = await call(client, name, args);
  expect(result.isError).toBe(true);
  expect(result.structuredContent).toBeUndefined();
  return JSON.parse(result.text) as { error: { code: string; message: string } };
}

const reply = (text: string) => defaultReply([{ role: 'user', content: text }]);

describe('POST /mcp, the API as an MCP server', () => {
  it('lists the five tools; the session tools take the session id and its token', async () => {
    const client = await connect((await serveApp()).url);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toStrictEqual([
      'end_conversation',
      'get_session',
      'get_transcript',
      'send_message',
      'start_conversation',
    ]);
    const required = Object.fromEntries(
      tools.map((tool) => [tool.name, [...(tool.inputSchema.required ?? [])].sort()]),
    );
    expect(required).toStrictEqual({
      start_conversation: [],
      send_message: ['sessionId', 'sessionToken', 'text'],
      get_transcript: ['sessionId', 'sessionToken'],
      get_session: ['sessionId', 'sessionToken'],
      end_conversation: ['sessionId', 'sessionToken'],
    });
    expect(client.getServerVersion()).toMatchObject({ name: 'voice-agent-server' });
  });

  it('runs a text conversation: start, messages answered by the LLM, transcript, end', async () => {
    const { url, origin, livekit } = await serveApp();
    const client = await connect(url);
    const started = await callOk(client, 'start_conversation', { instructions: 'Be brief.' });
    const { sessionId, sessionToken } = started as { sessionId: string; sessionToken: string };
    expect(started).toStrictEqual({
      sessionId: expect.any(String),
      sessionToken: expect.any(String),
      expiresAt: expect.stringMatching(ISO_TIME),
      eventsUrl: `${origin}/api/sessions/${sessionId}/events`,
      voice: false,
    });
    expect(await sessionTokens.verify(sessionToken)).toBe(sessionId);
    expect(livekit.createdRooms).toStrictEqual([]);
    const keys = { sessionId, sessionToken };

    expect(
      await callOk(client, 'send_message', { ...keys, text: 'My name is Ada.' }),
    ).toStrictEqual({ sessionId, reply: reply('My name is Ada.') });
    expect(await callOk(client, 'send_message', { ...keys, text: 'And yours?' })).toStrictEqual({
      sessionId,
      reply: reply('And yours?'),
    });
    const [, second] = providers.openai.chatRequests();
    expect(second?.messages.map((m) => [m.role, m.content])).toStrictEqual([
      ['system', 'Be brief.'],
      ['user', 'My name is Ada.'],
      ['assistant', reply('My name is Ada.')],
      ['user', 'And yours?'],
    ]);

    const transcript = await callOk(client, 'get_transcript', keys);
    const item = (role: string, text: string) => ({
      item_id: expect.any(String),
      role,
      text,
      source: 'text',
      timestamp: expect.stringMatching(ISO_TIME),
    });
    expect(transcript).toStrictEqual({
      sessionId,
      items: [
        item('user', 'My name is Ada.'),
        item('assistant', reply('My name is Ada.')),
        item('user', 'And yours?'),
        item('assistant', reply('And yours?')),
      ],
      nextAfter: expect.any(Number),
      hasMore: false,
    });
    const page = await callOk(client, 'get_transcript', { ...keys, limit: 1, after: 0 });
    expect(page).toMatchObject({ items: [item('user', 'My name is Ada.')], hasMore: true });

    expect(await callOk(client, 'get_session', keys)).toMatchObject({
      sessionId,
      live: false,
      endedAt: null,
    });
    const ended = await callOk(client, 'end_conversation', keys);
    expect(ended).toMatchObject({ sessionId, endedAt: expect.stringMatching(ISO_TIME) });
    expect(ended.expiresAt).toBeNull();

    expect(await callRefused(client, 'send_message', { ...keys, text: 'Still there?' })).toEqual({
      error: { code: 'session_ended', message: 'The session has ended.' },
    });
    expect(providers.openai.chatRequests()).toHaveLength(2);
  });

  it('opens a call with voice on, hands it to the call page, and the live agent answers', async () => {
    const { url, origin, livekit } = await serveApp({ PUBLIC_URL: 'https://voice.example.com' });
    const client = await connect(url);
    const started = await callOk(client, 'start_conversation', {
      voice: true,
      instructions: 'Speak like a pirate.',
      username: 'Ada',
    });
    const { sessionId, sessionToken } = started as { sessionId: string; sessionToken: string };
    expect(started).toStrictEqual({
      sessionId: expect.any(String),
      sessionToken: expect.any(String),
      expiresAt: expect.stringMatching(ISO_TIME),
      eventsUrl: `https://voice.example.com/api/sessions/${sessionId}/events`,
      voice: true,
      roomName: `session-${sessionId}`,
      livekitUrl: expect.stringMatching(/^ws:\/\/livekit\.test:7880/),
      participantIdentity: expect.stringMatching(/^user-/),
      participantToken: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      joinUrl: expect.stringMatching(/^https:\/\/voice\.example\.com\/#/),
    });
    expect(origin).not.toContain('voice.example.com');
    const joinUrl = new URL(String(started.joinUrl));
    expect(joinUrl.pathname).toBe('/');
    expect(joinUrl.search).toBe('');
    expect(Object.fromEntries(new URLSearchParams(joinUrl.hash.slice(1)))).toStrictEqual({
      session: sessionId,
      token: sessionToken,
    });
    expect(livekit.createdRooms).toMatchObject([
      {
        roomName: `session-${sessionId}`,
        metadata: { sessionId, instructions: 'Speak like a pirate.' },
      },
    ]);

    // The agent joins; a message goes to it, and its spoken answer is the reply.
    const now = () => new Date().toISOString();
    await store.appendEvents(sessionId, [
      { event_type: 'session_started', room_name: `session-${sessionId}`, timestamp: now() },
    ]);
    expect(await callOk(client, 'get_session', { sessionId, sessionToken })).toMatchObject({
      live: true,
    });
    const answered = callOk(client, 'send_message', { sessionId, sessionToken, text: 'Ahoy?' });
    await expect.poll(() => livekit.sentToAgent.length).toBe(1);
    const [sent] = livekit.sentToAgent;
    expect(sent).toMatchObject({ message: { text: 'Ahoy?', source: 'text' } });
    await store.appendEvents(sessionId, [
      {
        event_type: 'conversation_item',
        role: 'user',
        text: 'Ahoy?',
        source: 'text',
        item_id: sent?.message.itemId ?? '',
        timestamp: now(),
      },
      {
        event_type: 'agent_speaking',
        text: 'Ahoy, matey!',
        delta: 'Ahoy, matey!',
        turn_id: 't1',
        timestamp: now(),
      },
      {
        event_type: 'agent_finished',
        turn_id: 't1',
        interrupted: false,
        text: 'Ahoy, matey!',
        timestamp: now(),
      },
    ]);
    expect(await answered).toStrictEqual({ sessionId, reply: 'Ahoy, matey!' });
    expect(providers.openai.chatRequests()).toStrictEqual([]);

    await callOk(client, 'end_conversation', { sessionId, sessionToken });
    expect(livekit.deletedRooms).toStrictEqual([`session-${sessionId}`]);
  });

  it("answers the API's refusals as tool errors with its codes, never an HTTP error", async () => {
    const client = await connect((await serveApp()).url);
    const { sessionId, sessionToken } = await callOk(client, 'start_conversation');
    const other = await callOk(client, 'start_conversation');

    expect(await callRefused(client, 'get_session', { sessionId, sessionToken: 'forged' })).toEqual(
      { error: { code: 'invalid_session_token', message: expect.any(String) } },
    );
    expect(
      await callRefused(client, 'get_transcript', {
        sessionId,
        sessionToken: other.sessionToken,
      }),
    ).toEqual({ error: { code: 'forbidden', message: expect.any(String) } });
    const unknown = (await sessionTokens.issue('no-such-session', 600)).token;
    expect(
      await callRefused(client, 'end_conversation', {
        sessionId: 'no-such-session',
        sessionToken: unknown,
      }),
    ).toEqual({ error: { code: 'session_not_found', message: 'No such session.' } });

    const invalid = await call(client, 'send_message', { sessionId, sessionToken, text: '   ' });
    expect(invalid.isError).toBe(true);
    expect(invalid.text).toMatch(/text/);
  });

  it('answers GET and DELETE /mcp with 405 and the methods it takes', async () => {
    const { url } = await serveApp();
    for (const method of ['GET', 'DELETE']) {
      const response = await fetch(url, { method, headers: { accept: 'text/event-stream' } });
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('OPTIONS, POST');
      expect(await response.json()).toStrictEqual(
        errorShape('method_not_allowed', expect.stringContaining(method)),
      );
    }
  });
});

describe('POST /mcp with API_KEYS', () => {
  const KEYS = { API_KEYS: 'key-a,key-b' };
  const listTools = (url: string, headers: Record<string, string>) =>
    fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...headers,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });

  it('refuses a client without a key, or with a wrong one, as the API does', async () => {
    const { url } = await serveApp(KEYS);
    const none = await listTools(url, {});
    expect({ status: none.status, body: await none.json() }).toStrictEqual({
      status: 401,
      body: errorShape('api_key_required', expect.any(String)),
    });
    const wrong = await listTools(url, { authorization: 'Bearer key-c' });
    expect({ status: wrong.status, body: await wrong.json() }).toStrictEqual({
      status: 401,
      body: errorShape('invalid_api_key', 'The API key is not valid.'),
    });
    await expect(connect(url)).rejects.toThrow(/401|api_key_required/);
    await expect(connect(url, 'key-c')).rejects.toThrow(/401|invalid_api_key/);
    expect(providers.openai.chatRequests()).toStrictEqual([]);
  });

  it("lets a key reach its own sessions, never another key's", async () => {
    const { url } = await serveApp(KEYS);
    const a = await connect(url, 'key-a');
    const b = await connect(url, 'key-b');
    const mine = await callOk(a, 'start_conversation');
    const theirs = await callOk(b, 'start_conversation');
    const keys = { sessionId: mine.sessionId, sessionToken: mine.sessionToken };

    expect(await callOk(a, 'send_message', { ...keys, text: 'Hi' })).toStrictEqual({
      sessionId: mine.sessionId,
      reply: reply('Hi'),
    });
    const stranger = { sessionId: mine.sessionId, sessionToken: theirs.sessionToken };
    for (const tool of ['get_session', 'get_transcript', 'end_conversation']) {
      expect(await callRefused(b, tool, stranger)).toEqual({
        error: { code: 'forbidden', message: 'The session token is for another session.' },
      });
    }
    expect(await callRefused(b, 'send_message', { ...stranger, text: 'Hi' })).toMatchObject({
      error: { code: 'forbidden' },
    });
    expect(await callOk(a, 'get_session', keys)).toMatchObject({ endedAt: null });
    expect(providers.openai.chatRequests()).toHaveLength(1);
  });
});

describe('POST /mcp limits', () => {
  it('counts start_conversation as opening a session and send_message as a chat message', async () => {
    const { url } = await serveApp({ RATE_LIMIT_SESSIONS: '1', RATE_LIMIT_CHAT_PER_SESSION: '1' });
    const client = await connect(url);
    const { sessionId, sessionToken } = await callOk(client, 'start_conversation');
    await expect(call(client, 'start_conversation')).rejects.toThrow(
      /429.*rate_limited|rate_limited/,
    );
    await callOk(client, 'send_message', { sessionId, sessionToken, text: 'One' });
    await expect(
      call(client, 'send_message', { sessionId, sessionToken, text: 'Two' }),
    ).rejects.toThrow(/rate_limited/);
    // Neither listing tools nor reading the session counts.
    for (let i = 0; i < 3; i += 1) await client.listTools();
    await callOk(client, 'get_session', { sessionId, sessionToken });
  });

  it('refuses a batch of tool calls, which the limits would count as one', async () => {
    const { url } = await serveApp();
    const toolCall = (id: number) => ({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'start_conversation', arguments: {} },
    });
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify([toolCall(1), toolCall(2)]),
    });
    expect({ status: response.status, body: await response.json() }).toStrictEqual({
      status: 400,
      body: errorShape('invalid_request', 'Send one tools/call per request, not a batch of them.'),
    });
  });

  it('refuses a body over the limit before reading it', async () => {
    const { url } = await serveApp();
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) + ' '.repeat(200_000),
    });
    expect({ status: response.status, body: await response.json() }).toStrictEqual({
      status: 413,
      body: errorShape('request_too_large', 'The request body is too large.'),
    });
  });
});
