/**
 * The API's unit-test harness: the real app (`createApp`) on a real SQLite store in a temp dir,
 * real session and ingest tokens, and LiveKit's room service replaced by an in-memory gateway that
 * records room calls. Tests call `app.request(...)`, without a server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { type Logger, pino } from 'pino';
import { expect } from 'vitest';
import { createApp } from '../../api/app.js';
import { createChatLlm } from '../../api/chat/llm.js';
import type { ChatTools } from '../../api/chat/tools.js';
import { apiConfigSchema } from '../../api/config.js';
import {
  type AgentJob,
  type CallParticipant,
  createLivekitGateway,
  type LivekitGateway,
} from '../../api/livekit.js';
import type { EventStreamOptions } from '../../api/routes/events.js';
import { createSessionTokens } from '../../api/session-tokens.js';
import { openSqliteStore } from '../../api/store/sqlite.js';
import type { SessionStore } from '../../api/store/types.js';
import { createVoiceMessages } from '../../api/voice/messages.js';
import { createVoiceReplies, type VoiceReplies } from '../../api/voice/replies.js';
import { loadConfig } from '../../common/config.js';
import type {
  AgentChatMessage,
  CreateSessionResponse,
  JobMetadata,
} from '../../common/protocol.js';

export const SECRET = 'test-livekit-secret-0123456789abcdef';
export const LIVEKIT_URL = 'ws://livekit.test:7880';
export const VERSION = '9.9.9-test';
export const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** An event time a test can write down: `second` seconds into 2030. */
export const timeAt = (second: number) =>
  new Date(Date.UTC(2030, 0, 1, 0, 0, second)).toISOString();

/** The keys the app under test uses, for tests that issue or check tokens themselves. */
export const sessionTokens = createSessionTokens(SECRET, 'session');
export const ingestTokens = createSessionTokens(SECRET, 'ingest');
export const pageTickets = createSessionTokens(SECRET, 'page');

export function testConfig(env: NodeJS.ProcessEnv = {}) {
  return loadConfig(apiConfigSchema, {
    LIVEKIT_URL,
    LIVEKIT_API_KEY: 'test-key',
    LIVEKIT_API_SECRET: SECRET,
    ...env,
  });
}

const LIVEKIT_CALLS = [
  'createRoomWithAgent',
  'dispatchAgent',
  'agentJobs',
  'listParticipants',
  'deleteRoom',
  'roomExists',
  'sendToAgent',
] as const;

/** The gateway, with every call that would reach the LiveKit server failing while `down()`. */
function unlessDown(gateway: LivekitGateway, down: () => boolean): LivekitGateway {
  const guarded = { ...gateway };
  for (const name of LIVEKIT_CALLS) {
    const call = gateway[name] as (...args: unknown[]) => Promise<unknown>;
    (guarded[name] as typeof call) = async (...args) => {
      if (down()) throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') });
      return call(...args);
    };
  }
  return guarded;
}

/**
 * Room calls are recorded and can be made to fail; tokens come from the real gateway, which signs
 * them locally, so the grants under test are the ones production hands out.
 */
function fakeLivekit(config: ReturnType<typeof testConfig>) {
  const real = createLivekitGateway(config);
  const state = {
    createdRooms: [] as { roomName: string; metadata: JobMetadata }[],
    /** Agents sent into existing rooms (replacements for lost ones). */
    dispatches: [] as { roomName: string; metadata: JobMetadata }[],
    /** Who is in each room; a room missing here does not exist. */
    participants: new Map<string, CallParticipant[]>(),
    /** The agent jobs LiveKit would list for each room. */
    agentJobs: new Map<string, AgentJob[]>(),
    deletedRooms: [] as string[],
    sentToAgent: [] as { roomName: string; message: AgentChatMessage }[],
    failCreateRoom: false,
    /** LiveKit down: every call that would go to the server fails as a refused connection. */
    down: false,
    /** Runs inside each deleteRoom call, after it is recorded: a test makes it throw or wait. */
    onDeleteRoom: async (_roomName: string) => {},
    reachable: true,
  };
  const gateway: LivekitGateway = {
    url: real.url,
    async createRoomWithAgent(roomName, metadata) {
      if (state.failCreateRoom) {
        throw new Error('twirp error unavailable: dial tcp 10.1.2.3:7880: connection refused');
      }
      state.createdRooms.push({ roomName, metadata });
    },
    async dispatchAgent(roomName, metadata) {
      state.dispatches.push({ roomName, metadata });
    },
    async agentJobs(roomName) {
      return state.agentJobs.get(roomName) ?? [];
    },
    async listParticipants(roomName) {
      return state.participants.get(roomName) ?? null;
    },
    async deleteRoom(roomName) {
      state.deletedRooms.push(roomName);
      await state.onDeleteRoom(roomName);
    },
    async roomExists(roomName) {
      return state.createdRooms.some((room) => room.roomName === roomName);
    },
    async sendToAgent(roomName, message) {
      state.sentToAgent.push({ roomName, message });
    },
    createParticipantToken: (grant) => real.createParticipantToken(grant),
    async isReachable() {
      return state.reachable && !state.down;
    },
  };
  return { gateway: unlessDown(gateway, () => state.down), state };
}

/** A SQLite store in a fresh temp dir; `remove` closes it and deletes the dir. */
export async function openTestStore() {
  const dataDir = mkdtempSync(join(tmpdir(), 'api-test-'));
  const store = await openSqliteStore({ dataDir });
  return {
    store,
    async remove() {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestAppOptions {
  store: SessionStore;
  env?: NodeJS.ProcessEnv;
  eventStream?: EventStreamOptions;
  /** Where voice replies are kept; by default a directory that only a save would create. */
  voiceReplies?: VoiceReplies;
  /** A built call page to serve at `/`. */
  webDir?: string;
  /** Where the app logs; silent by default. */
  logger?: Logger;
  /** Aborting it shuts the app's event streams down, as SIGTERM does. */
  closing?: AbortSignal | undefined;
  /** Redis shared with other replicas (REDIS_URL). */
  redis?: Redis;
  /** Text chat's tools (api/chat/tools.ts). */
  tools?: ChatTools;
}

export function buildTestApp({
  store,
  env = {},
  eventStream,
  voiceReplies,
  webDir,
  logger = pino({ level: 'silent' }),
  closing,
  redis,
  tools,
}: TestAppOptions) {
  const config = testConfig(env);
  const livekit = fakeLivekit(config);
  const replies =
    voiceReplies ??
    createVoiceReplies({
      dir: join(tmpdir(), `api-test-voice-${process.pid}`),
      ttlMs: config.VOICE_REPLY_TTL_S * 1000,
    });
  const app = createApp({
    config,
    livekit: livekit.gateway,
    sessionTokens,
    ingestTokens,
    pageTickets,
    store,
    voiceReplies: replies,
    voiceMessages: createVoiceMessages({ config, replies }),
    chatLlm: createChatLlm(config, { retry: { retries: 1, baseMs: 1, maxMs: 20 } }),
    logger,
    version: VERSION,
    ...(eventStream && { eventStream }),
    ...(webDir && { webDir }),
    ...(closing && { closing }),
    ...(redis && { redis }),
    ...(tools && { tools }),
  });
  return { app, livekit: livekit.state };
}
export type TestApp = ReturnType<typeof buildTestApp>['app'];

export const postJson = (body: string, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body,
});

/** POST /api/sessions, expecting 201; without `body` the request has no body and no content type. */
export async function createSession(app: TestApp, body?: object): Promise<CreateSessionResponse> {
  const init = body === undefined ? { method: 'POST' } : postJson(JSON.stringify(body));
  const response = await app.request('/api/sessions', init);
  expect(response.status).toBe(201);
  return (await response.json()) as CreateSessionResponse;
}

/** A session created through the app, with the ingest token its agent job was dispatched with. */
export async function startSession(store: SessionStore) {
  const { app, livekit } = buildTestApp({ store });
  const session = await createSession(app);
  const ingestToken = livekit.createdRooms.at(-1)?.metadata.ingestToken ?? '';
  return { app, livekit, session, ingestToken };
}

/** What a stack trace leaves in a body: a frame, a source location, a dependency's path. */
export const STACK_TRACE = /\\n\s+at |\n\s+at |\(\/[^)]*:\d+:\d+\)|node_modules|\.[cm]?[jt]s:\d+/;

/** The API's error body, exactly: nothing else (no stack, no provider text) may be in it. */
export const errorShape = (code: string, message: unknown) => ({
  error: { code, message },
  timestamp: expect.stringMatching(ISO_TIME),
});

/** Reads a response body as text, one chunk per read, as far as the test asks. */
export function readBody(response: Response) {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  let done = false;
  const read = async () => {
    const chunk = await reader.read();
    done = chunk.done;
    if (chunk.value) text += decoder.decode(chunk.value, { stream: true });
  };
  return {
    readChunk: read,
    get text() {
      return text;
    },
    /** Reads until `wanted` holds of the text so far; false when the stream ends first. */
    async until(wanted: (text: string) => boolean) {
      while (!wanted(text) && !done) await read();
      return wanted(text);
    },
    async toEnd() {
      while (!done) await read();
      return text;
    },
    cancel: () => reader.cancel(),
  };
}

/** The `id:` lines of SSE text, as numbers. */
export const sseSeqs = (text: string) =>
  [...text.matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]));

/** A multipart form POST, as browsers and existing clients send /api/chat. */
export function postForm(
  fields: Record<string, string | Blob>,
  headers: Record<string, string> = {},
) {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  return { method: 'POST', headers, body };
}
