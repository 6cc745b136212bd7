/**
 * `GET /api/page`: what the call page asks the server when it loads, and again when its ticket
 * runs low: whether it may open sessions itself (PAGE_SESSIONS), with a fresh page ticket when it
 * may, and which origins may embed it and hand it a session. An endpoint rather than values
 * written into index.html: the page is static files (served as built, or by Vite in development),
 * its policy allows no inline script, and a ticket has to be renewed without reloading the page.
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi';
import { pageConfigResponseSchema } from '../../common/protocol.js';
import type { AppDeps } from '../deps.js';
import { allowedOrigins } from '../middleware/cors.js';
import { jsonResponse } from '../openapi.js';
import { PAGE_TICKET_TTL_S, pageOrigin } from '../page-access.js';

const pageRoute = createRoute({
  method: 'get',
  path: '/api/page',
  summary:
    "The call page's configuration: whether it may open sessions (then with a page ticket for X-Page-Ticket) and which origins may embed it",
  responses: { 200: jsonResponse('The configuration', pageConfigResponseSchema) },
});

export function pageRoutes({ config, pageTickets }: Pick<AppDeps, 'config' | 'pageTickets'>) {
  const embedOrigins = allowedOrigins(config);
  const app = new OpenAPIHono();
  app.openapi(pageRoute, async (c) => {
    // A ticket is for one page load: no cache may hand it to another.
    c.header('cache-control', 'no-store');
    if (config.PAGE_SESSIONS === 'off') return c.json({ sessions: 'off', embedOrigins }, 200);
    const ticket = await pageTickets.issue(pageOrigin(config, c), PAGE_TICKET_TTL_S);
    return c.json(
      {
        sessions: 'open',
        embedOrigins,
        ticket: ticket.token,
        ticketExpiresAt: ticket.expiresAt.toISOString(),
      },
      200,
    );
  });
  return app;
}
