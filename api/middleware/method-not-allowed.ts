/**
 * 405 `method_not_allowed` for a wrong method on a path the API serves (`PUT /api/chat`), with an
 * `Allow` header naming the methods it takes; a path nothing serves falls through to the 404. The
 * methods come from the app's own routes (`app.routes`), so the answer follows them as they change.
 * Mounted before limits and credentials: a wrong method is refused for what it is, before its body
 * is read. OPTIONS is answered by CORS before this runs.
 */
import type { MiddlewareHandler } from 'hono';
import { TrieRouter } from 'hono/router/trie-router';
import type { RouterRoute } from 'hono/types';
import { respondWithError } from '../errors.js';

/** Middleware (`app.use`) is registered as ALL; only routes say which methods a path takes. */
const MIDDLEWARE = 'ALL';

/** Path → the methods its routes take; a route of any method is found whatever the request's. */
function routesByPath(routes: readonly RouterRoute[]) {
  const router = new TrieRouter<string>();
  for (const { method, path } of routes) {
    if (method !== MIDDLEWARE) router.add(MIDDLEWARE, path, method.toUpperCase());
  }
  return (path: string) => {
    const methods = new Set(router.match('GET', path)[0].map(([method]) => method));
    // Hono answers HEAD with the GET route, and CORS answers OPTIONS anywhere.
    if (methods.has('GET')) methods.add('HEAD');
    if (methods.size > 0) methods.add('OPTIONS');
    return methods;
  };
}

/**
 * `routes` is read at the first request, once the app has all of them (this middleware is
 * registered before the routes it guards).
 */
export function methodNotAllowed(routes: () => readonly RouterRoute[]): MiddlewareHandler {
  let methodsOf: ((path: string) => Set<string>) | undefined;
  return async function methodNotAllowed(c, next) {
    methodsOf ??= routesByPath(routes());
    const allowed = methodsOf(c.req.path);
    if (allowed.size === 0 || allowed.has(c.req.method)) return next();
    const allow = [...allowed].sort().join(', ');
    return respondWithError(
      c,
      405,
      'method_not_allowed',
      `${c.req.method} is not allowed here; this path takes ${allow}.`,
      { allow },
    );
  };
}
