/**
 * Bad input over every endpoint, as one table: malformed JSON, wrong types, missing and extra
 * fields, oversize bodies and strings, unknown and other sessions' ids and tokens, forged, expired
 * and tampered tokens, path traversal, wrong content types, CR/LF, NUL and other unicode edge
 * cases. Each gets its documented 4xx with the API's JSON error shape and nothing more; after all
 * of them the app still serves, and the stored sessions and events are exactly as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEvent, TimedEventBody } from '../common/protocol.js';
import {
  buildTestApp,
  createSession,
  errorShape,
  ingestTokens,
  openTestStore,
  postForm,
  postJson,
  STACK_TRACE,
  sessionTokens,
  timeAt,
} from '../test/support/test-app.js';
import { createSessionTokens } from './session-tokens.js';
import type { SessionRecord } from './store/types.js';

const { store, remove: removeStore } = await openTestStore();
afterAll(removeStore);

const env = {
  // The limits have their own tests; here every request must reach the check under test.
  RATE_LIMIT_SESSIONS: '0',
  RATE_LIMIT_CHAT: '0',
  RATE_LIMIT_CHAT_PER_SESSION: '0',
  MAX_OPEN_SESSIONS_PER_CLIENT: '0',
  // Small, so bodies over the chat limit (this plus 64 KiB) stay small too.
  VOICE_MESSAGE_MAX_BYTES: '4096',
};
const { app, livekit } = buildTestApp({ store, env });
const keyedApp = buildTestApp({ store, env: { ...env, API_KEYS: 'the-only-key' } }).app;

/** Ids that are not sessions; each has a valid session token of its own for the 404 cases. */
const ODD_IDS = {
  unknown: 'no-such-session',
  crlf: 'a\r\nb',
  traversal: '../../etc/passwd',
  long: 'x'.repeat(65),
  unicode: 'sess\u00e9\u{1F600}\u202E',
  nul: 'a\u0000b',
} as const;
type OddId = keyof typeof ODD_IDS;

interface Session {
  id: string;
  token: string;
  ingest: string;
}
/** Filled in by beforeAll: the victim session A (with a log), another session B, ended C. */
const f = {
  A: {} as Session,
  B: {} as Session,
  C: {} as Session,
  odd: {} as Record<OddId, { token: string; ingest: string }>,
  expired: '',
  forged: '',
  unsigned: '',
  tampered: '',
  expiredIngest: '',
  forgedIngest: '',
  participant: '',
};

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const enc = encodeURIComponent;
const json = (value: unknown) => JSON.stringify(value);
const events = (...bodies: object[]) => json({ events: bodies });
const stamped = (body: object) => ({ ...body, timestamp: timeAt(1) });
const said = (text: unknown) =>
  stamped({ event_type: 'transcription', text, is_final: true, is_interruption: false });

async function startSessionWithIngest() {
  const created = await createSession(app, { voice: true });
  const ingest = livekit.createdRooms.at(-1)?.metadata.ingestToken ?? '';
  return { id: created.sessionId, token: created.sessionToken, ingest };
}

/** A JWT with its parts re-combined: the header and signature of one, the payload of another. */
const parts = (token: string) => token.split('.') as [string, string, string];

beforeAll(async () => {
  f.A = await startSessionWithIngest();
  f.B = await startSessionWithIngest();
  f.C = await startSessionWithIngest();
  const log: TimedEventBody[] = [
    { event_type: 'session_started', room_name: `session-${f.A.id}`, timestamp: timeAt(0) },
    said('What is the capital of France?') as TimedEventBody,
    {
      event_type: 'conversation_item',
      role: 'user',
      text: 'What is the capital of France?',
      source: 'voice',
      item_id: 'item-1',
      timestamp: timeAt(2),
    },
    {
      event_type: 'conversation_item',
      role: 'assistant',
      text: 'Paris.',
      source: 'voice',
      item_id: 'item-2',
      timestamp: timeAt(3),
    },
  ];
  for (const session of [f.A, f.B]) {
    const response = await app.request(
      `/internal/sessions/${session.id}/events`,
      postJson(json({ events: log }), bearer(session.ingest)),
    );
    expect(response.status).toBe(200);
  }
  const end = await app.request(`/api/sessions/${f.C.id}`, {
    method: 'DELETE',
    headers: bearer(f.C.token),
  });
  expect(end.status).toBe(200);

  for (const [name, id] of Object.entries(ODD_IDS)) {
    f.odd[name as OddId] = {
      token: (await sessionTokens.issue(id, 600)).token,
      ingest: (await ingestTokens.issue(id, 600)).token,
    };
  }
  f.expired = (await sessionTokens.issue(f.A.id, -60)).token;
  f.forged = (await createSessionTokens('not-the-secret', 'session').issue(f.A.id, 600)).token;
  const [, payloadA] = parts(f.A.token);
  const [headerB, , signatureB] = parts(f.B.token);
  f.tampered = `${headerB}.${payloadA}.${signatureB}`;
  const none = Buffer.from(json({ alg: 'none', typ: 'JWT' })).toString('base64url');
  f.unsigned = `${none}.${payloadA}.`;
  f.expiredIngest = (await ingestTokens.issue(f.A.id, -60)).token;
  f.forgedIngest = (await createSessionTokens('not-the-secret', 'ingest').issue(f.A.id, 600)).token;
  const created = await createSession(app, { voice: false });
  f.participant = created.participantToken;
});

type Request = [path: string, init?: RequestInit];
interface Case {
  name: string;
  request: () => Request;
  status: number;
  code: string;
  /** The exact message where the API words it; any string otherwise. */
  message?: string | RegExp;
  /** The app with API_KEYS set. */
  keyed?: true;
}

const get = (path: string, headers: Record<string, string> = {}): Request => [path, { headers }];
const send = (method: string, path: string, headers: Record<string, string> = {}): Request => [
  path,
  { method, headers },
];
const post = (path: string, body: string, headers: Record<string, string> = {}): Request => [
  path,
  postJson(body, headers),
];
const postAs = (
  path: string,
  contentType: string,
  body: string | Uint8Array,
  headers = {},
): Request => [
  path,
  { method: 'POST', headers: { 'content-type': contentType, ...headers }, body },
];

/** The cases, each name prefixed with the route it is about. */
const named = (route: string, list: Case[]): Case[] =>
  list.map((c) => ({ ...c, name: `${route}: ${c.name}` }));

const TOKEN_REQUIRED = ['session_token_required', 'This call needs the session token.'] as const;
const TOKEN_INVALID = [
  'invalid_session_token',
  'The session token is not valid or expired.',
] as const;
const FORBIDDEN = ['forbidden', 'The session token is for another session.'] as const;
const NOT_FOUND = ['session_not_found', 'No such session.'] as const;
const INGEST_INVALID = ['invalid_ingest_token', 'No valid ingest token for this session.'] as const;
const refused = (status: number, [code, message]: readonly [string, string]) => ({
  status,
  code,
  message,
});

/** Every way to be refused on a session-scoped route at `path(id)`. */
function sessionScoped(route: string, path: (id: string) => string, method = 'GET'): Case[] {
  const call = (id: string, headers: Record<string, string> = {}) =>
    send(method, path(id), headers);
  // biome-ignore format: one case per line, read as a table
  return named(route, [
    { name: 'no token', request: () => call(f.A.id), ...refused(401, TOKEN_REQUIRED) },
    { name: 'an empty ?token=', request: () => send(method, `${path(f.A.id)}?token=`), ...refused(401, TOKEN_REQUIRED) },
    { name: 'a garbage token', request: () => call(f.A.id, bearer('garbage')), ...refused(401, TOKEN_INVALID) },
    { name: 'an expired token', request: () => call(f.A.id, bearer(f.expired)), ...refused(401, TOKEN_INVALID) },
    { name: 'a token signed with another secret', request: () => call(f.A.id, bearer(f.forged)), ...refused(401, TOKEN_INVALID) },
    { name: "another token's signature on this session's claims", request: () => call(f.A.id, bearer(f.tampered)), ...refused(401, TOKEN_INVALID) },
    { name: 'an unsigned (alg none) token', request: () => call(f.A.id, bearer(f.unsigned)), ...refused(401, TOKEN_INVALID) },
    { name: "the session's ingest token", request: () => call(f.A.id, bearer(f.A.ingest)), ...refused(401, TOKEN_INVALID) },
    { name: 'a LiveKit participant token', request: () => call(f.A.id, bearer(f.participant)), ...refused(401, TOKEN_INVALID) },
    { name: "another session's token", request: () => call(f.A.id, bearer(f.B.token)), ...refused(403, FORBIDDEN) },
    { name: 'a token with a CR/LF appended', request: () => call(f.A.id, bearer(`${f.A.token}%0D%0A`)), ...refused(401, TOKEN_INVALID) },
    { name: 'an unknown id', request: () => call(ODD_IDS.unknown, bearer(f.odd.unknown.token)), ...refused(404, NOT_FOUND) },
    { name: 'an id with CR/LF', request: () => call(ODD_IDS.crlf, bearer(f.odd.crlf.token)), ...refused(404, NOT_FOUND) },
    { name: 'a path traversal id', request: () => call(ODD_IDS.traversal, bearer(f.odd.traversal.token)), ...refused(404, NOT_FOUND) },
    { name: 'an id with NUL', request: () => call(ODD_IDS.nul, bearer(f.odd.nul.token)), ...refused(404, NOT_FOUND) },
    { name: 'an id of emoji and an RTL override', request: () => call(ODD_IDS.unicode, bearer(f.odd.unicode.token)), ...refused(404, NOT_FOUND) },
    { name: 'an id over 64 characters', request: () => call(ODD_IDS.long, bearer(f.odd.long.token)), status: 400, code: 'invalid_request' },
  ]);
}

const sessionPath = (id: string) => `/api/sessions/${enc(id)}`;
const MALFORMED = /Malformed JSON/;

// biome-ignore format: one case per line, read as a table
const createCases = named('POST /api/sessions', [
  { name: 'malformed JSON', request: () => post('/api/sessions', '{"voice": tru'), status: 400, code: 'invalid_request', message: MALFORMED },
  { name: 'an empty JSON body', request: () => post('/api/sessions', ''), status: 400, code: 'invalid_request', message: MALFORMED },
  { name: 'invalid UTF-8 outside a string', request: () => postAs('/api/sessions', 'application/json', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), status: 400, code: 'invalid_request', message: MALFORMED },
  { name: 'a JSON array', request: () => post('/api/sessions', '[]'), status: 400, code: 'invalid_request' },
  { name: 'JSON null', request: () => post('/api/sessions', 'null'), status: 400, code: 'invalid_request' },
  { name: 'a JSON number', request: () => post('/api/sessions', '42'), status: 400, code: 'invalid_request' },
  { name: 'a JSON string', request: () => post('/api/sessions', '"hello"'), status: 400, code: 'invalid_request' },
  { name: 'instructions of the wrong type', request: () => post('/api/sessions', json({ instructions: 5 })), status: 400, code: 'invalid_request', message: /^instructions: / },
  { name: 'instructions null', request: () => post('/api/sessions', json({ instructions: null })), status: 400, code: 'invalid_request', message: /^instructions: / },
  { name: 'userId a number', request: () => post('/api/sessions', json({ userId: 123 })), status: 400, code: 'invalid_request', message: /^userId: / },
  { name: 'userId an object', request: () => post('/api/sessions', json({ userId: { $ne: null } })), status: 400, code: 'invalid_request', message: /^userId: / },
  { name: 'username a boolean', request: () => post('/api/sessions', json({ username: true })), status: 400, code: 'invalid_request', message: /^username: / },
  { name: 'voice a string', request: () => post('/api/sessions', json({ voice: 'yes' })), status: 400, code: 'invalid_request', message: /^voice: / },
  { name: 'voice a number', request: () => post('/api/sessions', json({ voice: 1 })), status: 400, code: 'invalid_request', message: /^voice: / },
  { name: 'an empty userId', request: () => post('/api/sessions', json({ userId: '' })), status: 400, code: 'invalid_request', message: /^userId: / },
  { name: 'a username of unicode spaces', request: () => post('/api/sessions', json({ username: '\u3000\u2003\u00a0' })), status: 400, code: 'invalid_request', message: /^username: / },
  { name: 'a userId over 128 characters', request: () => post('/api/sessions', json({ userId: 'u'.repeat(129) })), status: 400, code: 'invalid_request', message: /^userId: / },
  { name: 'a username of 129 emoji', request: () => post('/api/sessions', json({ username: '\u{1F600}'.repeat(129) })), status: 400, code: 'invalid_request', message: /^username: / },
  { name: 'instructions over 20000 characters', request: () => post('/api/sessions', json({ instructions: 'é'.repeat(20_001) })), status: 400, code: 'invalid_request', message: /^instructions: / },
  { name: 'an extra field', request: () => post('/api/sessions', json({ voice: true, admin: true })), status: 400, code: 'invalid_request', message: 'Unrecognized key: "admin"' },
  { name: 'a __proto__ key', request: () => post('/api/sessions', '{"__proto__":{"admin":true}}'), status: 400, code: 'invalid_request', message: 'Unrecognized key: "__proto__"' },
  { name: 'a sessionId of its own choosing', request: () => post('/api/sessions', json({ sessionId: f.A.id })), status: 400, code: 'invalid_request', message: 'Unrecognized key: "sessionId"' },
  { name: 'text/plain', request: () => postAs('/api/sessions', 'text/plain', '{}'), status: 415, code: 'unsupported_media_type' },
  { name: 'a url-encoded form', request: () => postAs('/api/sessions', 'application/x-www-form-urlencoded', 'voice=true'), status: 415, code: 'unsupported_media_type' },
  { name: 'XML', request: () => postAs('/api/sessions', 'application/xml', '<voice>true</voice>'), status: 415, code: 'unsupported_media_type' },
  { name: 'a body over 128 KiB', request: () => post('/api/sessions', json({ instructions: 'a'.repeat(140_000) })), status: 413, code: 'request_too_large', message: 'The request body is too large.' },
  { name: 'a Content-Length over 128 KiB', request: () => post('/api/sessions', '{}', { 'content-length': String(10 * 1024 * 1024) }), status: 413, code: 'request_too_large' },
  { name: 'no API key (API_KEYS set)', keyed: true, request: () => post('/api/sessions', '{}'), status: 401, code: 'api_key_required' },
  { name: 'a wrong API key', keyed: true, request: () => post('/api/sessions', '{}', bearer('the-only-keY')), status: 401, code: 'invalid_api_key' },
  { name: 'the API key with a suffix', keyed: true, request: () => post('/api/sessions', '{}', { 'x-api-key': 'the-only-key-2' }), status: 401, code: 'invalid_api_key' },
  { name: 'an empty X-API-Key', keyed: true, request: () => post('/api/sessions', '{}', { 'x-api-key': '' }), status: 401, code: 'api_key_required' },
  { name: 'Basic auth instead of a key', keyed: true, request: () => post('/api/sessions', '{}', { authorization: 'Basic dGhlLW9ubHkta2V5Og==' }), status: 401, code: 'api_key_required' },
  { name: "a session's token instead of a key", keyed: true, request: () => post('/api/sessions', '{}', bearer(f.A.token)), status: 401, code: 'invalid_api_key' },
]);

// biome-ignore format: one case per line, read as a table
const eventsCases = [
  ...sessionScoped('GET events', (id) => `${sessionPath(id)}/events`),
  ...named('GET events', [
    { name: 'a bad ?token=', request: () => get(`${sessionPath(f.A.id)}/events?token=bad`), ...refused(401, TOKEN_INVALID) },
    { name: "another session's ?token=", request: () => get(`${sessionPath(f.A.id)}/events?token=${f.B.token}`), ...refused(403, FORBIDDEN) },
    ...['abc', '-1', '1.5', '1e3', '0x10', '1234567890123456', '\u00b2'].map((id) => ({
      name: `Last-Event-ID ${id}`,
      request: () => get(`${sessionPath(f.A.id)}/events`, { ...bearer(f.A.token), 'last-event-id': id }),
      status: 400,
      code: 'invalid_request',
      message: 'Last-Event-ID must be an event sequence number.',
    })),
    { name: '?lastEventId=2;drop', request: () => get(`${sessionPath(f.A.id)}/events?lastEventId=2%3Bdrop`, bearer(f.A.token)), status: 400, code: 'invalid_request' },
  ]),
];

const sessionCases: Case[] = [
  ...sessionScoped('GET session', sessionPath),
  ...sessionScoped('POST token', (id) => `${sessionPath(id)}/token`, 'POST'),
  ...sessionScoped('DELETE session', sessionPath, 'DELETE'),
  ...sessionScoped('GET transcript', (id) => `${sessionPath(id)}/transcript`),
  {
    name: 'POST token: an ended session',
    request: () => send('POST', `${sessionPath(f.C.id)}/token`, bearer(f.C.token)),
    status: 409,
    code: 'session_ended',
    message: 'The session has ended.',
  },
  {
    name: 'PUT a session (no such method)',
    request: () => send('PUT', sessionPath(f.A.id), bearer(f.A.token)),
    status: 405,
    code: 'method_not_allowed',
  },
];

const ingestPath = (id: string) => `/internal/sessions/${enc(id)}/events`;
const ingestAsA = (body: string) => post(ingestPath(f.A.id), body, bearer(f.A.ingest));
// biome-ignore format: one case per line, read as a table
const ingestCases = named('ingest', [
  ...(
    [
      ['no token', () => post(ingestPath(f.A.id), events(said('hi')))],
      ['the session token', () => post(ingestPath(f.A.id), events(said('hi')), bearer(f.A.token))],
      ["another session's ingest token", () => post(ingestPath(f.A.id), events(said('hi')), bearer(f.B.ingest))],
      ['an expired ingest token', () => post(ingestPath(f.A.id), events(said('hi')), bearer(f.expiredIngest))],
      ['a forged ingest token', () => post(ingestPath(f.A.id), events(said('hi')), bearer(f.forgedIngest))],
      ['the ingest token as ?token=', () => post(`${ingestPath(f.A.id)}?token=${f.A.ingest}`, events(said('hi')))],
      ['a bad token and a bad body', () => post(ingestPath(f.A.id), '{', bearer('nope'))],
      ['history without a token', () => get(`/internal/sessions/${f.A.id}/history`)],
      ['history with the session token', () => get(`/internal/sessions/${f.A.id}/history`, bearer(f.A.token))],
      ["history with another session's ingest token", () => get(`/internal/sessions/${f.A.id}/history`, bearer(f.B.ingest))],
    ] as const
  ).map(([name, request]) => ({ name, request, ...refused(401, INGEST_INVALID) })),
  { name: 'malformed JSON', request: () => ingestAsA('{"events": ['), status: 400, code: 'invalid_request', message: MALFORMED },
  { name: 'no events field', request: () => ingestAsA('{}'), status: 400, code: 'invalid_request', message: /^events: / },
  { name: 'events not an array', request: () => ingestAsA(json({ events: said('hi') })), status: 400, code: 'invalid_request', message: /^events: / },
  { name: 'an empty batch', request: () => ingestAsA(events()), status: 400, code: 'invalid_request', message: /^events: / },
  { name: 'a batch of 501', request: () => ingestAsA(events(...Array.from({ length: 501 }, () => said('x')))), status: 400, code: 'invalid_request', message: /^events: / },
  { name: 'an event without a timestamp', request: () => ingestAsA(events({ event_type: 'user_speaking' })), status: 400, code: 'invalid_request' },
  { name: 'a timestamp that is not ISO 8601', request: () => ingestAsA(events({ event_type: 'user_speaking', timestamp: 'yesterday' })), status: 400, code: 'invalid_request' },
  { name: 'an unknown event type', request: () => ingestAsA(events(stamped({ event_type: 'rm_rf' }))), status: 400, code: 'invalid_request' },
  { name: 'no event type', request: () => ingestAsA(events(stamped({ text: 'hi' }))), status: 400, code: 'invalid_request' },
  { name: 'an unknown turn state', request: () => ingestAsA(events(stamped({ event_type: 'state_change', new_state: 'dancing', previous_state: null }))), status: 400, code: 'invalid_request' },
  { name: 'transcription text a number', request: () => ingestAsA(events(said(42))), status: 400, code: 'invalid_request' },
  { name: 'transcription text over 100000 characters', request: () => ingestAsA(events(said('a'.repeat(100_001)))), status: 400, code: 'invalid_request' },
  { name: 'an error message over 2000 characters', request: () => ingestAsA(events(stamped({ event_type: 'error', error_message: 'e'.repeat(2001), error_code: 'x', recoverable: true }))), status: 400, code: 'invalid_request' },
  { name: 'a negative metric', request: () => ingestAsA(events(stamped({ event_type: 'metrics', turn_id: 't', end_of_utterance_ms: -1, stt_ms: null, llm_ttft_ms: null, tts_ttfb_ms: null, voice_to_voice_ms: null }))), status: 400, code: 'invalid_request' },
  { name: 'a good event then a bad one (nothing is kept)', request: () => ingestAsA(events(said('kept?'), said(null))), status: 400, code: 'invalid_request' },
  { name: 'text/plain', request: () => postAs(ingestPath(f.A.id), 'text/plain', events(said('hi')), bearer(f.A.ingest)), status: 415, code: 'unsupported_media_type' },
  { name: 'a body over 4 MiB', request: () => ingestAsA(events(...Array.from({ length: 50 }, () => said('a'.repeat(90_000))))), status: 413, code: 'request_too_large' },
  { name: 'an unknown session', request: () => post(ingestPath(ODD_IDS.unknown), events(said('hi')), bearer(f.odd.unknown.ingest)), ...refused(404, NOT_FOUND) },
  { name: 'an id with CR/LF', request: () => post(ingestPath(ODD_IDS.crlf), events(said('hi')), bearer(f.odd.crlf.ingest)), ...refused(404, NOT_FOUND) },
  { name: 'a path traversal id', request: () => post(ingestPath(ODD_IDS.traversal), events(said('hi')), bearer(f.odd.traversal.ingest)), ...refused(404, NOT_FOUND) },
  { name: 'an id over 64 characters', request: () => post(ingestPath(ODD_IDS.long), events(said('hi')), bearer(f.odd.long.ingest)), status: 400, code: 'invalid_request' },
  { name: 'history of an unknown session', request: () => get(`/internal/sessions/${ODD_IDS.unknown}/history`, bearer(f.odd.unknown.ingest)), ...refused(404, NOT_FOUND) },
  { name: 'history of an id with NUL', request: () => get(`/internal/sessions/${enc(ODD_IDS.nul)}/history`, bearer(f.odd.nul.ingest)), ...refused(404, NOT_FOUND) },
]);

const chatJson = (body: unknown, headers: Record<string, string> = {}) =>
  post('/api/chat', typeof body === 'string' ? body : json(body), headers);
const inA = (body: object) =>
  chatJson({ message: 'Hi', sessionId: f.A.id, ...body }, bearer(f.A.token));
const chatForm = (
  fields: Record<string, string | Blob>,
  headers: Record<string, string> = {},
): Request => ['/api/chat', postForm(fields, headers)];
const NEEDS_AUDIO = 'audio: a voice message needs an audio file';
// biome-ignore format: one case per line, read as a table
const chatCases = named('POST /api/chat', [
  { name: 'malformed JSON', request: () => chatJson('{"message": "Hi",'), status: 400, code: 'invalid_request', message: 'The body is not valid JSON.' },
  { name: 'a JSON array', request: () => chatJson('[{"message":"Hi"}]'), status: 400, code: 'invalid_request' },
  { name: 'no message', request: () => chatJson({}), status: 400, code: 'invalid_request', message: /^message: / },
  { name: 'message null', request: () => chatJson({ message: null }), status: 400, code: 'invalid_request', message: /^message: / },
  { name: 'message a number', request: () => chatJson({ message: 7 }), status: 400, code: 'invalid_request', message: /^message: / },
  { name: 'message an array', request: () => chatJson({ message: ['Hi'] }), status: 400, code: 'invalid_request', message: /^message: / },
  { name: 'an empty message', request: () => chatJson({ message: '' }), status: 400, code: 'invalid_request', message: 'message: must not be empty' },
  { name: 'a message of unicode line separators', request: () => chatJson({ message: '\u2028\u2029\ufeff' }), status: 400, code: 'invalid_request', message: 'message: must not be empty' },
  { name: 'a message over 4000 characters', request: () => chatJson({ message: 'ß'.repeat(4001) }), status: 400, code: 'invalid_request', message: 'message: must be at most 4000 characters' },
  { name: 'an extra field', request: () => chatJson({ message: 'Hi', role: 'system' }), status: 400, code: 'invalid_request', message: 'Unrecognized key: "role"' },
  { name: 'stream a string', request: () => chatJson({ message: 'Hi', stream: 'yes' }), status: 400, code: 'invalid_request', message: /^stream: / },
  { name: 'type voice in JSON', request: () => chatJson({ message: 'Hi', type: 'voice' }), status: 400, code: 'invalid_request', message: /^type: / },
  { name: 'sessionId a number', request: () => chatJson({ message: 'Hi', sessionId: 1 }), status: 400, code: 'invalid_request', message: /^sessionId: / },
  { name: 'an empty sessionId', request: () => chatJson({ message: 'Hi', sessionId: '' }), status: 400, code: 'invalid_request', message: /^sessionId: / },
  { name: 'a sessionId over 64 characters', request: () => chatJson({ message: 'Hi', sessionId: ODD_IDS.long }, bearer(f.odd.long.token)), status: 400, code: 'invalid_request', message: /^sessionId: / },
  { name: 'a userId over 128 characters', request: () => chatJson({ message: 'Hi', userId: 'u'.repeat(129) }), status: 400, code: 'invalid_request', message: /^userId: / },
  { name: 'a body over the limit', request: () => chatJson({ message: 'a'.repeat(80_000) }), status: 413, code: 'request_too_large' },
  { name: 'text/plain', request: () => postAs('/api/chat', 'text/plain', 'Hi'), status: 415, code: 'unsupported_media_type', message: 'Send JSON or a multipart form.' },
  { name: 'no content type', request: () => ['/api/chat', { method: 'POST', body: json({ message: 'Hi' }) }], status: 415, code: 'unsupported_media_type' },
  { name: 'XML', request: () => postAs('/api/chat', 'application/xml', '<message>Hi</message>'), status: 415, code: 'unsupported_media_type' },
  { name: 'A session without its token', request: () => chatJson({ message: 'Hi', sessionId: f.A.id }), ...refused(401, TOKEN_REQUIRED) },
  { name: 'A session with a forged token', request: () => chatJson({ message: 'Hi', sessionId: f.A.id }, bearer(f.forged)), ...refused(401, TOKEN_INVALID) },
  { name: 'A session with an expired token', request: () => chatJson({ message: 'Hi', sessionId: f.A.id }, bearer(f.expired)), ...refused(401, TOKEN_INVALID) },
  { name: "A session with B's token", request: () => chatJson({ message: 'Hi', sessionId: f.A.id }, bearer(f.B.token)), ...refused(403, FORBIDDEN) },
  { name: 'an unknown session', request: () => chatJson({ message: 'Hi', sessionId: ODD_IDS.unknown }, bearer(f.odd.unknown.token)), ...refused(404, NOT_FOUND) },
  { name: 'a sessionId with CR/LF', request: () => chatJson({ message: 'Hi', sessionId: ODD_IDS.crlf }, bearer(f.odd.crlf.token)), ...refused(404, NOT_FOUND) },
  { name: 'a path traversal sessionId', request: () => chatJson({ message: 'Hi', sessionId: ODD_IDS.traversal }, bearer(f.odd.traversal.token)), ...refused(404, NOT_FOUND) },
  { name: 'an ended session', request: () => chatJson({ message: 'Hi', sessionId: f.C.id }, bearer(f.C.token)), status: 409, code: 'session_ended', message: 'The session has ended.' },
  { name: 'a bad body in A with its token', request: () => inA({ message: '' }), status: 400, code: 'invalid_request' },
  { name: 'a new session without an API key (API_KEYS set)', keyed: true, request: () => chatJson({ message: 'Hi' }), status: 401, code: 'api_key_required' },
  { name: 'form: type video', request: () => chatForm({ type: 'video', message: 'Hi' }), status: 400, code: 'invalid_request', message: /^type: / },
  { name: 'form: no message', request: () => chatForm({ type: 'text' }), status: 400, code: 'invalid_request', message: /^message: / },
  { name: 'form: a message over 4000 characters', request: () => chatForm({ type: 'text', message: 'a'.repeat(4001) }), status: 400, code: 'invalid_request', message: 'message: must be at most 4000 characters' },
  { name: 'form: stream=maybe', request: () => chatForm({ type: 'text', message: 'Hi', stream: 'maybe' }), status: 400, code: 'invalid_request', message: /^stream: / },
  { name: 'form: voice without audio', request: () => chatForm({ type: 'voice' }), status: 400, code: 'invalid_request', message: NEEDS_AUDIO },
  { name: 'form: voice with text for audio', request: () => chatForm({ type: 'voice', audio: 'not a file' }), status: 400, code: 'invalid_request', message: NEEDS_AUDIO },
  { name: 'form: an empty audio file', request: () => chatForm({ type: 'voice', audio: new File([], 'a.webm') }), status: 400, code: 'audio_required' },
  { name: 'form: a text file named .mp3', request: () => chatForm({ type: 'voice', audio: new File(['just text, no audio'], 'a.mp3') }), status: 415, code: 'unsupported_audio' },
  { name: 'form: audio over VOICE_MESSAGE_MAX_BYTES', request: () => chatForm({ type: 'voice', audio: new File([new Uint8Array(5000)], 'a.wav') }), status: 413, code: 'audio_too_large' },
  { name: 'form: a body over the limit', request: () => chatForm({ type: 'voice', audio: new File([new Uint8Array(80_000)], 'a.wav') }), status: 413, code: 'request_too_large' },
  { name: "form: A's id with B's token", request: () => chatForm({ type: 'text', message: 'Hi', sessionId: f.A.id }, bearer(f.B.token)), ...refused(403, FORBIDDEN) },
  { name: 'form: a multipart type without a boundary', request: () => postAs('/api/chat', 'multipart/form-data', 'message=Hi'), status: 400, code: 'invalid_request', message: 'The form could not be read.' },
  { name: 'form: parts under another boundary', request: () => postAs('/api/chat', 'multipart/form-data; boundary=abc', '--xyz\r\nfoo\r\n--xyz--'), status: 400, code: 'invalid_request', message: 'The form could not be read.' },
  { name: 'url-encoded: an empty message', request: () => postAs('/api/chat', 'application/x-www-form-urlencoded', 'type=text&message='), status: 400, code: 'invalid_request', message: /^message: / },
]);

const voiceCases: Case[] = [
  ['an unknown id', `/api/voice/${'a'.repeat(32)}`],
  ['a path traversal id', '/api/voice/..%2F..%2Fsessions.db'],
  ['an encoded absolute path', '/api/voice/%2Fetc%2Fpasswd'],
  ['a dot-dot with a backslash', '/api/voice/..%5C..%5Csessions.db'],
  ['an id with CR/LF', '/api/voice/a%0D%0Ab'],
  ['an id with NUL', '/api/voice/a%00b'],
  ['a unicode id', `/api/voice/${enc('ü\u{1F600}\u202E')}`],
  ['an overlong id', `/api/voice/${'a'.repeat(5000)}`],
].map(([name, path]) => ({
  name: `GET /api/voice: ${name}`,
  request: () => get(path as string),
  status: 404,
  code: 'voice_not_found',
  message: 'No such voice reply; it may have expired.',
}));

// biome-ignore format: one case per line, read as a table
const otherCases: Case[] = [
  { name: 'an unknown route', request: () => get('/api/nothing'), status: 404, code: 'not_found', message: 'No such route.' },
  { name: 'POST /health', request: () => post('/health', '{}'), status: 405, code: 'method_not_allowed' },
  { name: 'DELETE /api/models', request: () => send('DELETE', '/api/models'), status: 405, code: 'method_not_allowed' },
  { name: 'a dot-dot route out of the voice route', request: () => get('/api/voice/..'), status: 404, code: 'not_found' },
  { name: 'POST /metrics', request: () => post('/metrics', '{}'), status: 405, code: 'method_not_allowed' },
  { name: 'GET /metrics without an API key (API_KEYS set)', keyed: true, request: () => get('/metrics'), status: 401, code: 'api_key_required' },
  { name: 'GET /metrics with a wrong API key', keyed: true, request: () => get('/metrics', bearer('the-only-keY')), status: 401, code: 'invalid_api_key' },
  { name: "GET /metrics with a session's token", keyed: true, request: () => get('/metrics', bearer(f.A.token)), status: 401, code: 'invalid_api_key' },
];

const cases = [
  ...createCases,
  ...sessionCases,
  ...eventsCases,
  ...ingestCases,
  ...chatCases,
  ...voiceCases,
  ...otherCases,
];

/** What the log and the sessions hold, to compare after every bad request. */
async function snapshot(): Promise<[SessionRecord | null, SessionEvent[]][]> {
  return Promise.all(
    [f.A, f.B, f.C].map(async ({ id }) => [
      await store.getSession(id),
      await store.readEvents(id, 0, 10_000),
    ]),
  );
}

describe('bad input', () => {
  let before: Awaited<ReturnType<typeof snapshot>>;
  beforeAll(async () => {
    before = await snapshot();
    expect(before[0]?.[1]).toHaveLength(4);
  });

  it('has at least 100 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(100);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.each(cases)('$name → $status $code', async ({ request, status, code, message, keyed }) => {
    const response = await (keyed ? keyedApp : app).request(...request());
    const body = await response.text();
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(JSON.parse(body)).toStrictEqual(
      errorShape(
        code,
        message instanceof RegExp
          ? expect.stringMatching(message)
          : (message ?? expect.any(String)),
      ),
    );
    expect(body).not.toMatch(STACK_TRACE);
  });

  it('leaves the app serving and every stored session and event as it was', async () => {
    expect((await app.request('/health')).status).toBe(200);
    const session = await createSession(app, { voice: false });
    const transcript = await app.request(`${sessionPath(f.A.id)}/transcript`, {
      headers: bearer(f.A.token),
    });
    expect(transcript.status).toBe(200);
    expect(((await transcript.json()) as { items: unknown[] }).items).toHaveLength(2);
    expect(session.sessionId).not.toBe(f.A.id);
    expect(await snapshot()).toStrictEqual(before);
  });
});
