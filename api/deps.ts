/**
 * What the API is built from: the parts the composition root (main.ts, or a test) wires together
 * and hands to `createApp`. Routes and services name the few of these they use
 * (`Pick<AppDeps, ...>`), so none depends on the composition root or on parts it does not touch.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ChatLlm } from './chat/llm.js';
import type { ChatTools } from './chat/tools.js';
import type { ApiConfig } from './config.js';
import type { LivekitGateway } from './livekit.js';
import type { EventStreamOptions } from './routes/events.js';
import type { SessionTokens } from './session-tokens.js';
import type { SessionStore } from './store/types.js';
import type { VoiceMessages } from './voice/messages.js';
import type { VoiceReplies } from './voice/replies.js';

export interface AppDeps {
  config: ApiConfig;
  livekit: LivekitGateway;
  sessionTokens: SessionTokens;
  /** Tokens that let an agent job append to its own session's log. */
  ingestTokens: SessionTokens;
  /** Tickets that let the call page open sessions without an API key (PAGE_SESSIONS=open). */
  pageTickets: SessionTokens;
  store: SessionStore;
  /** Redis (REDIS_URL), where replicas share rate limit counts and call watches; unset for one API. */
  redis?: Redis;
  /** The LLM text chat uses when no call is live. */
  chatLlm: ChatLlm;
  /** The tools text chat runs (TOOLS_FILE, MCP_SERVERS, the session's own); none when unset. */
  tools?: ChatTools;
  /** Speech in and out for voice messages sent through /api/chat. */
  voiceMessages: VoiceMessages;
  /** The spoken replies to voice messages, served at /api/voice/:id. */
  voiceReplies: VoiceReplies;
  logger: Logger;
  version: string;
  /** Aborted when the server shuts down: open event streams flush, send a retry hint and end. */
  closing?: AbortSignal;
  /** Tuning of the SSE feed; tests shorten the heartbeat and the slow-subscriber bound. */
  eventStream?: EventStreamOptions;
  /** The built call page, served at `/` when it holds an index.html (not before a build). */
  webDir?: string;
}
