/**
 * Request ids: every response carries `X-Request-Id` (the caller's own when it is a short plain
 * token, else a fresh UUID; a CR/LF or an overlong value is never echoed), and every log line
 * written while the request is handled carries it as `requestId` (see `requestLogFields`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { MiddlewareHandler } from 'hono';
import { requestId } from 'hono/request-id';
import { routePath } from 'hono/route';
import type { Logger } from 'pino';

/** Longest caller-chosen id kept; longer ones are replaced. */
export const REQUEST_ID_MAX_LENGTH = 128;

const requestScope = new AsyncLocalStorage<{ requestId: string }>();

/**
 * Fields for the process's pino logger (`mixin`): the id of the request being handled, so log
 * lines from anywhere in a route carry it without each module passing a child logger along. A
 * copy: pino merges each line's fields into the object it gets.
 */
export const requestLogFields = (): object => ({ ...requestScope.getStore() });

export function requestIds({ logger }: { logger: Logger }): MiddlewareHandler[] {
  return [
    requestId({ limitLength: REQUEST_ID_MAX_LENGTH }),
    function logRequest(c, next) {
      const startedAt = performance.now();
      return requestScope.run({ requestId: c.get('requestId') }, async () => {
        await next();
        // The route pattern, not the path: a voice reply's id in its path is its only credential.
        logger.debug(
          {
            method: c.req.method,
            route: routePath(c, -1),
            status: c.res.status,
            ms: Math.round(performance.now() - startedAt),
          },
          'request',
        );
      });
    },
  ];
}
