/**
 * `Connection: close` on the answer to a request whose body the app did not read to its end: the
 * early refusals (a body over its limit, credentials refused before the body is read, a rate limit,
 * a wrong method). The rest of such a body is still on its way in the connection, and
 * @hono/node-server gives up waiting for it after half a second and drops the socket, under a
 * client that was told it could send its next request there. Told to close, the client opens a new
 * connection for its next request instead, and Node closes this one once the answer is out.
 * Reading the rest to keep the connection instead would let anyone make the server take in bodies
 * it refused, which is what the limits are there to prevent.
 */
import type { HttpBindings } from '@hono/node-server';
import type { Context, MiddlewareHandler } from 'hono';

/** Whether the request says a body follows (a length above zero, or chunks). */
const announcesBody = (c: Context) =>
  Number(c.req.header('content-length') ?? 0) > 0 ||
  c.req.header('transfer-encoding') !== undefined;

export function closeAfterUnreadBody(): MiddlewareHandler {
  return async function closeAfterUnreadBody(c, next) {
    await next();
    // Only a request that came through a Node socket has one to close (not `app.request` in tests).
    const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
    if (incoming && announcesBody(c) && !incoming.readableEnded) c.header('connection', 'close');
  };
}
