/**
 * The OpenAPI document against the API it describes, for every operation in it: requests the
 * document calls valid never get a 5xx it does not list (503s from a provider or LiveKit are
 * listed), requests it calls invalid always get a 4xx it lists, and every answer has a status the
 * document lists for the operation and a body its schema accepts (the error codes included).
 * Requests and checks are derived from the served document alone (test/support/json-schema-
 * arbitrary.ts); the app is the real one with fake LiveKit and fake providers.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeProviders, startFakeProviders } from '../support/fake-providers.js';
import {
  arbitraryOf,
  invalidArbitraryOf,
  type JsonSchema,
  validatorOf,
} from '../support/json-schema-arbitrary.js';
import {
  buildTestApp,
  createSession,
  ingestTokens,
  openTestStore,
  sessionTokens,
  type TestApp,
} from '../support/test-app.js';

/** Runs of each property for each operation: enough to find what this suite found, in time. */
const RUNS = 40;

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: JsonSchema;
}
interface Media {
  schema?: JsonSchema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media> }>;
}
type Document = { paths: Record<string, Record<string, Operation>> };

interface Fixture {
  sessionId: string;
  sessionToken: string;
  ingestToken: string;
}

/** A request as generated: where the id comes from and whose token goes with it. */
interface Generated {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  body?: { mediaType: string; value: unknown } | { mediaType: 'raw'; value: string };
  /** A fixture session for `{id}` (or the chat body's sessionId), or the generated value. */
  session: number | undefined;
  /** The token sent: the one for the id, none, or another session's. */
  auth: 'own' | 'none' | 'other';
}

const { store, remove: removeStore } = await openTestStore();
let providers: FakeProviders;
let app: TestApp;
let doc: Document;
/** Opens a session through the app: `voice: false` ones are never live (no agent to wait for). */
let openSession: (body: object) => Promise<Fixture>;
/**
 * The sessions an operation's requests may name: fresh for each operation (an earlier one may
 * have ended them). Chat and the session routes get text sessions, so chat never waits for an
 * agent; the ingest gets a call's session, which its events may make live.
 */
let sessions: Fixture[];

beforeAll(async () => {
  providers = await startFakeProviders();
  const built = buildTestApp({
    store,
    env: {
      ...providers.env,
      RATE_LIMIT_SESSIONS: '0',
      RATE_LIMIT_CHAT: '0',
      RATE_LIMIT_CHAT_PER_SESSION: '0',
      RATE_LIMIT_HEALTH: '0',
      RATE_LIMIT_MODELS: '0',
      MAX_OPEN_SESSIONS_PER_CLIENT: '0',
    },
  });
  app = built.app;
  openSession = async (body: object) => {
    const created = await createSession(app, body);
    return {
      sessionId: created.sessionId,
      sessionToken: created.sessionToken,
      ingestToken: built.livekit.createdRooms.at(-1)?.metadata.ingestToken ?? '',
    };
  };
  doc = (await (await app.request('/openapi.json')).json()) as Document;
});
afterAll(async () => {
  await providers.close();
  await removeStore();
});

const isForm = (mediaType: string) =>
  mediaType === 'multipart/form-data' || mediaType === 'application/x-www-form-urlencoded';

/** What a form sends: strings, and files where the form has them. */
const asFormFields = (value: unknown) =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? Object.fromEntries(
        Object.entries(value).map(([key, field]) => [
          key,
          field instanceof Blob ? field : String(field),
        ]),
      )
    : // A form is fields or nothing.
      {};

/** The body a form schema's validator sees (a file is a binary string in JSON Schema). */
const formForValidation = (value: unknown) =>
  value !== null && typeof value === 'object'
    ? Object.fromEntries(
        Object.entries(value).map(([key, field]) => [key, field instanceof Blob ? 'file' : field]),
      )
    : value;

function encodeBody(body: NonNullable<Generated['body']>): {
  headers: Record<string, string>;
  body: string | FormData | URLSearchParams;
} {
  if (body.mediaType === 'raw') {
    return { headers: { 'content-type': 'application/json' }, body: String(body.value) };
  }
  if (body.mediaType === 'application/json') {
    return { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body.value) };
  }
  const fields = Object.entries(body.value as Record<string, string | Blob>);
  if (body.mediaType === 'multipart/form-data') {
    const form = new FormData();
    for (const [key, value] of fields) form.append(key, value);
    return { headers: {}, body: form };
  }
  const form = new URLSearchParams();
  for (const [key, value] of fields) form.append(key, typeof value === 'string' ? value : 'file');
  return { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form };
}

const summarize = (request: Generated) => JSON.stringify(request).slice(0, 500);

/** Turns a generated request into a real one: fixture ids, their tokens, encoded body. */
async function send(path: string, method: string, request: Generated): Promise<Response> {
  const fixture = request.session === undefined ? undefined : sessions[request.session];
  const params = { ...request.params };
  if (fixture && 'id' in params) params.id = fixture.sessionId;
  let body = request.body;
  if (fixture && body && body.mediaType !== 'raw') {
    const value = body.value as Record<string, unknown> | null;
    if (value && typeof value === 'object' && 'sessionId' in value) {
      body = { ...body, value: { ...value, sessionId: fixture.sessionId } };
    }
  }
  const url = path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(String(params[name])),
  );
  const query = new URLSearchParams(
    Object.entries(request.query).map(([key, value]): [string, string] => [key, String(value)]),
  ).toString();

  const headers: Record<string, string> = {};
  const id = String(fixture?.sessionId ?? params.id ?? '');
  const internal = path.startsWith('/internal/');
  if (request.auth === 'own') {
    const token = fixture
      ? internal
        ? fixture.ingestToken
        : fixture.sessionToken
      : (await (internal ? ingestTokens : sessionTokens).issue(id, 600)).token;
    headers.authorization = `Bearer ${token}`;
  } else if (request.auth === 'other') {
    const stranger = await (internal ? ingestTokens : sessionTokens).issue('another-session', 600);
    headers.authorization = `Bearer ${stranger.token}`;
  }
  const encoded = body ? encodeBody(body) : undefined;
  return app.request(`${url}${query ? `?${query}` : ''}`, {
    method: method.toUpperCase(),
    headers: { ...headers, ...encoded?.headers },
    ...(encoded && { body: encoded.body }),
  });
}

const fixtureChoice = fc.option(fc.integer({ min: 0, max: 1 }), { nil: undefined });
const authChoice = fc.constantFrom<Generated['auth']>('own', 'own', 'none', 'other');

/** `.` and `..` are not a path segment a client can send: URLs resolve them away. */
const sendable = (value: unknown) => value !== '.' && value !== '..';

function parametersArbitrary(parameters: Parameter[], where: 'path' | 'query') {
  const wanted = parameters.filter((parameter) => parameter.in === where);
  return fc.record(
    Object.fromEntries(
      wanted.map((parameter) => [parameter.name, arbitraryOf(parameter.schema).filter(sendable)]),
    ),
    { requiredKeys: wanted.filter((p) => p.required).map((p) => p.name) },
  );
}

function validRequests(operation: Operation): fc.Arbitrary<Generated> {
  const parameters = operation.parameters ?? [];
  const bodies = Object.entries(operation.requestBody?.content ?? {}).map(([mediaType, media]) =>
    arbitraryOf(media.schema ?? {}).map((value) => ({
      mediaType,
      value: isForm(mediaType) ? asFormFields(value) : value,
    })),
  );
  return fc.record({
    params: parametersArbitrary(parameters, 'path'),
    query: parametersArbitrary(parameters, 'query'),
    body: bodies.length > 0 ? fc.oneof(...bodies) : fc.constant(undefined),
    session: fixtureChoice,
    auth: authChoice,
  }) as fc.Arbitrary<Generated>;
}

const WRONG_QUERY_VALUES = ['', ' ', 'x', '-1', '1.5', '1e3', '9'.repeat(20), '%00'];

/** Requests with one part the document refuses: a path parameter or the body. */
function invalidRequests(operation: Operation): fc.Arbitrary<Generated> | undefined {
  const parameters = operation.parameters ?? [];
  const valid = validRequests(operation);
  const wrongs: fc.Arbitrary<Generated>[] = [];
  for (const parameter of parameters.filter((p) => p.in === 'path')) {
    const { maxLength } = parameter.schema;
    if (maxLength === undefined) continue;
    const tooLong = fc.string({ minLength: maxLength + 1, maxLength: maxLength + 20 });
    wrongs.push(
      fc.tuple(valid, tooLong).map(([request, id]) => ({
        ...request,
        session: undefined,
        params: { ...request.params, [parameter.name]: id },
      })),
    );
  }
  for (const parameter of parameters.filter((p) => p.in === 'query')) {
    const valid = validatorOf(parameter.schema);
    // A query value is a string: a wrong one is a string the schema refuses, if it refuses any.
    const refused = WRONG_QUERY_VALUES.filter((value) => !valid(value));
    if (refused.length === 0) continue;
    const wrong = fc.oneof(
      fc.constantFrom(...refused),
      // Not a filter: a schema that refuses few strings would make it search for ever.
      fc.string({ maxLength: 20 }).map((value) => (valid(value) ? (refused[0] as string) : value)),
    );
    wrongs.push(
      fc.tuple(validRequests(operation), wrong).map(([request, value]) => ({
        ...request,
        query: { ...request.query, [parameter.name]: value },
      })),
    );
  }
  for (const [mediaType, media] of Object.entries(operation.requestBody?.content ?? {})) {
    const form = isForm(mediaType);
    const body = invalidArbitraryOf(
      media.schema ?? {},
      form ? (value) => formForValidation(asFormFields(value)) : undefined,
    ).map((value) => ({ mediaType, value }));
    const bodies = form
      ? body
      : fc.oneof(
          body,
          fc.constantFrom('{', '{"message": tru', '').map((value) => ({
            mediaType: 'raw' as const,
            value,
          })),
        );
    // No fixture: it would put a valid sessionId in place of the one made wrong.
    wrongs.push(
      fc
        .tuple(valid, bodies)
        .map(([request, wrong]) => ({ ...request, session: undefined, body: wrong })),
    );
  }
  return wrongs.length > 0 ? fc.oneof(...wrongs) : undefined;
}

/** The documented answer for `status`, and its body checked against the documented schema. */
async function checkAnswer(operation: Operation, response: Response) {
  const documented = operation.responses[String(response.status)];
  const text = `${response.status} ${response.headers.get('content-type')}`;
  if (!documented) {
    const body = await response.text();
    throw new Error(`undocumented status: ${text} ${body.slice(0, 300)}`);
  }
  const contentType = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
  const media = Object.entries(documented.content ?? {}).find(
    ([type]) =>
      type === contentType || (type.endsWith('/*') && contentType.startsWith(type.slice(0, -1))),
  );
  if (!media) {
    await response.body?.cancel();
    throw new Error(`undocumented content type: ${text}`);
  }
  if (contentType !== 'application/json') {
    await response.body?.cancel();
    return;
  }
  const body = await response.json();
  if (media[1].schema && !validatorOf(media[1].schema)(body)) {
    throw new Error(`body not as documented: ${text} ${JSON.stringify(body).slice(0, 300)}`);
  }
}

const operations = () =>
  Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
  );

async function openFreshSessions(path: string) {
  const voice = path.startsWith('/internal/');
  sessions = [await openSession({ voice }), await openSession({ voice })];
}

describe('the OpenAPI document describes the API', () => {
  it('lists every operation the property runs over', () => {
    expect(operations().length).toBeGreaterThanOrEqual(14);
  });

  it('documents the chat form as the parser reads it: a message is required for text', () => {
    const form = doc.paths['/api/chat']?.post?.requestBody?.content['multipart/form-data'];
    const valid = validatorOf(form?.schema ?? {});
    expect(valid({ message: 'Hello' })).toBe(true);
    expect(valid({ type: 'text', message: 'Hello', sessionId: '' })).toBe(true);
    expect(valid({ type: 'text' })).toBe(false);
    expect(valid({ type: 'text', message: '' })).toBe(false);
    expect(valid({ type: 'text', message: '   ' })).toBe(false);
  });

  it('answers requests it calls valid with a documented status and body, never an undocumented 5xx', async () => {
    for (const { path, method, operation } of operations()) {
      await openFreshSessions(path);
      await fc.assert(
        fc.asyncProperty(validRequests(operation), async (request) => {
          const response = await send(path, method, request);
          const status = response.status;
          await checkAnswer(operation, response);
          if (status >= 500 && status !== 503) {
            throw new Error(`${method} ${path}: ${status} for ${summarize(request)}`);
          }
        }),
        { numRuns: RUNS },
      );
    }
  }, 60_000);

  it('answers requests it calls invalid with a documented 4xx', async () => {
    for (const { path, method, operation } of operations()) {
      const requests = invalidRequests(operation);
      if (!requests) continue;
      await openFreshSessions(path);
      await fc.assert(
        fc.asyncProperty(requests, async (request) => {
          const response = await send(path, method, request);
          const status = response.status;
          await checkAnswer(operation, response);
          if (status < 400 || status >= 500) {
            throw new Error(`${method} ${path}: ${status} for ${summarize(request)}`);
          }
        }),
        { numRuns: RUNS },
      );
    }
  }, 60_000);
});
