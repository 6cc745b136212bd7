/** The API's configuration: LiveKit, providers (for /health and chat), HTTP and store settings. */
import { z } from 'zod';
import { PAGE_SESSION_MODES } from '../common/call-page.js';
import {
  DEV_LIVEKIT_SECRET,
  env,
  livekitSchema,
  providersSchema,
  refineToolsConfig,
  toolsSchema,
} from '../common/config.js';

const isOrigin = (value: string) => URL.canParse(value) && new URL(value).origin === value;

export const apiConfigSchema = livekitSchema
  .extend(providersSchema.shape)
  .extend(toolsSchema.shape)
  .extend({
    /** The LiveKit URL browsers connect to, when it differs from LIVEKIT_URL (docker, proxies). */
    LIVEKIT_PUBLIC_URL: env.optionalUrl,
    API_PORT: env.integer(8000, 0, 65_535),
    API_HOST: env.text('127.0.0.1'),
    /** When set, creating sessions needs one of these keys. */
    API_KEYS: env.list,
    /**
     * Origins whose pages may call the API from the browser (CORS). Unset: none in production, the
     * Vite dev page in development; `*` (any origin) only outside production.
     */
    CORS_ORIGINS: env.list
      .transform((origins) => origins.map((origin) => origin.replace(/\/+$/, '')))
      .refine(
        (origins) => origins.every((origin) => origin === '*' || isOrigin(origin)),
        'must be origins such as https://app.example.com (scheme, host, port; no path), or *',
      ),
    /**
     * How many reverse proxies in front of the API add to X-Forwarded-For: the client address is
     * the entry that many hops from the right. 0: the socket's address, and the header is ignored.
     */
    TRUST_PROXY: env.integer(0, 0, 10),
    /** Origin clients reach the API at, for the URLs it hands out (no trailing slash needed). */
    PUBLIC_URL: env.optionalUrl.transform((value) => value?.replace(/\/+$/, '')),
    LOG_LEVEL: env.logLevel,
    /** Where the embedded store (SQLite) keeps sessions and their event logs. */
    DATA_DIR: env.text('.data'),
    /**
     * Redis, for several API replicas (`redis://[:password@]host:port[/db]`, `rediss://` for
     * TLS): sessions and their event logs, rate limit counts and call recovery's watches live
     * there. Unset: SQLite in DATA_DIR, for one API process.
     */
    REDIS_URL: env.optionalUrl.refine(
      (value) => value === undefined || /^rediss?:$/.test(new URL(value).protocol),
      'must be a redis:// or rediss:// URL',
    ),
    /** How many recent messages (user and assistant) text chat sends the LLM. */
    CHAT_HISTORY_MESSAGES: env.integer(20, 0, 1000),
    /** A session with no activity for this long has expired. */
    SESSION_IDLE_TIMEOUT_S: env.integer(1800, 60, 30 * 86_400),
    /** Days an ended (or expired) session and its event log are kept; 0: for ever. */
    SESSION_RETENTION_DAYS: env.integer(30, 0, 36_500),
    /** Lifetime of a participant token; clients refresh it through /token. */
    PARTICIPANT_TOKEN_TTL_S: env.integer(900, 60, 86_400),
    /** Lifetime of a session token (the key to a session's events, transcript and chat). */
    SESSION_TOKEN_TTL_S: env.integer(4 * 3600, 60, 7 * 86_400),
    /** Largest voice message /api/chat accepts, in bytes (10 MiB). */
    VOICE_MESSAGE_MAX_BYTES: env.integer(10 * 1024 * 1024, 1024, 100 * 1024 * 1024),
    /** Longest voice message /api/chat transcribes. */
    VOICE_MESSAGE_MAX_SECONDS: env.integer(120, 1, 3600),
    /** How long the spoken reply to a voice message stays at its /api/voice URL. */
    VOICE_REPLY_TTL_S: env.integer(3600, 60, 7 * 86_400),
    /** Audio format asked of the TTS server for voice replies: wav (any server) or mp3 (smaller). */
    VOICE_REPLY_FORMAT: env.text('wav').pipe(z.enum(['wav', 'mp3'])),
    /** The window of the rate limits below. */
    RATE_LIMIT_WINDOW_S: env.integer(60, 1, 86_400),
    /** Sessions a client (its API key, else its address) may open per window; 0: no limit. */
    RATE_LIMIT_SESSIONS: env.integer(30, 0, 1_000_000),
    /**
     * Sessions the call page may open without an API key (PAGE_SESSIONS=open) per client address
     * per window, on top of RATE_LIMIT_SESSIONS: anyone can load the page; 0: no limit.
     */
    RATE_LIMIT_PAGE_SESSIONS: env.integer(10, 0, 1_000_000),
    /** /api/chat requests a client may send per window; 0: no limit. */
    RATE_LIMIT_CHAT: env.integer(120, 0, 1_000_000),
    /** /api/chat requests one session may take per window; 0: no limit. */
    RATE_LIMIT_CHAT_PER_SESSION: env.integer(30, 0, 1_000_000),
    /**
     * /health requests a client may send per window; 0: no limit. Room for a few probes every
     * couple of seconds from one address (a load balancer, an orchestrator).
     */
    RATE_LIMIT_HEALTH: env.integer(120, 0, 1_000_000),
    /** /api/models requests a client may send per window; 0: no limit. */
    RATE_LIMIT_MODELS: env.integer(30, 0, 1_000_000),
    /** Sessions a client may have open (not ended, not idle past expiry) at once; 0: no cap. */
    MAX_OPEN_SESSIONS_PER_CLIENT: env.integer(100, 0, 1_000_000),
    /**
     * How long a caller may be in a call without an agent (none came, or one was lost and another
     * dispatched) before the API dispatches one again (LiveKit webhooks; see README).
     */
    AGENT_JOIN_TIMEOUT_S: env.integer(20, 1, 600),
    /**
     * `open`: the call page may open sessions without an API key, from its own origin with a page
     * ticket (GET /api/page). `off`: it only joins sessions handed to it. Unset: `open` in
     * development (the page works without keys, as `npm start` always has), `off` in production.
     */
    PAGE_SESSIONS: env.optionalText.pipe(z.enum(PAGE_SESSION_MODES).optional()),
    /** The instructions of sessions the page opens in open mode (clients' own are ignored). */
    PAGE_INSTRUCTIONS: env.optionalText.pipe(z.string().max(20_000).optional()),
  })
  .superRefine((config, ctx) => {
    refineToolsConfig(config, ctx);
    if (config.NODE_ENV !== 'production') return;
    // Session tokens are signed with a key derived from this secret: the public dev one would let
    // anyone forge them.
    if (config.LIVEKIT_API_SECRET === DEV_LIVEKIT_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['LIVEKIT_API_SECRET'],
        message: 'the development secret is not allowed in production',
      });
    }
    if (config.API_KEYS.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['API_KEYS'], message: 'required in production' });
    }
    if (config.CORS_ORIGINS.includes('*')) {
      ctx.addIssue({
        code: 'custom',
        path: ['CORS_ORIGINS'],
        message: '`*` is not allowed in production; list the origins',
      });
    }
  })
  .transform((config) => ({
    ...config,
    PAGE_SESSIONS: config.PAGE_SESSIONS ?? (config.NODE_ENV === 'production' ? 'off' : 'open'),
  }));

export type ApiConfig = z.infer<typeof apiConfigSchema>;
