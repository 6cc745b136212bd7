/**
 * A wrong method on a path the API serves answers 405 `method_not_allowed` with `Allow`, for every
 * path of the OpenAPI document, before credentials are asked for; OPTIONS still answers CORS
 * preflights; a path nothing serves stays 404.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { buildTestApp, errorShape, openTestStore } from '../../test/support/test-app.js';

const { store, remove: removeStore } = await openTestStore();
afterAll(removeStore);

const { app } = buildTestApp({ store });
const document = (await (await app.request('/openapi.json')).json()) as {
  paths: Record<string, Record<string, unknown>>;
};
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** Each documented path, its parameters filled in, with the methods the document gives it. */
const documented = Object.entries(document.paths).map(([path, operations]) => {
  const methods = Object.keys(operations).map((method) => method.toUpperCase());
  const allow = [...methods, ...(methods.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].sort();
  return { path: path.replaceAll(/\{[^}]+\}/g, 'some-id'), methods, allow };
});

describe('a wrong method on a documented path', () => {
  it('covers the whole document', () => {
    expect(documented.map(({ path }) => path)).toEqual(
      expect.arrayContaining(['/health', '/metrics', '/api/chat', '/api/sessions/some-id/events']),
    );
  });

  it.each(
    documented.flatMap(({ path, methods, allow }) =>
      METHODS.filter((method) => !methods.includes(method)).map((method) => ({
        method,
        path,
        allow,
      })),
    ),
  )('$method $path answers 405 with Allow: $allow', async ({ method, path, allow }) => {
    const response = await app.request(path, { method });
    expect({
      status: response.status,
      allow: response.headers.get('allow'),
      body: await response.json(),
    }).toStrictEqual({
      status: 405,
      allow: allow.join(', '),
      body: errorShape('method_not_allowed', expect.stringContaining(allow.join(', '))),
    });
  });
});

describe('what stays as it was', () => {
  it('OPTIONS answers a CORS preflight', async () => {
    const response = await app.request('/api/chat', {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
  });

  it('HEAD of a GET path is served', async () => {
    expect((await app.request('/health', { method: 'HEAD' })).status).toBe(200);
  });

  it.each([
    ['PUT', '/api/nothing-here'],
    ['DELETE', '/nothing/here'],
  ])('%s %s of a path nothing serves answers 404', async (method, path) => {
    const response = await app.request(path, { method });
    expect({ status: response.status, body: await response.json() }).toStrictEqual({
      status: 404,
      body: errorShape('not_found', 'No such route.'),
    });
  });
});
