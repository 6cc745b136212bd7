/**
 * `POST /mcp`: the API as an MCP server over streamable HTTP, stateless: each request gets a new
 * server and transport, and its answer is JSON (no stream to resume, no MCP session to keep, so
 * any replica serves any request). GET and DELETE, which only a stateful server answers, get the
 * API's 405. The API key is required as for opening sessions (when API_KEYS is set).
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { requireApiKey } from '../api-keys.js';
import type { ChatTurnDeps } from '../chat/chat-turn.js';
import type { AppDeps } from '../deps.js';
import { mcpRouteDoc } from './doc.js';
import { mcpRateLimits, readToolCalls } from './limits.js';
import { createMcpServer } from './server.js';

export function mcpRoutes(deps: ChatTurnDeps & Pick<AppDeps, 'redis' | 'version'>) {
  const { config } = deps;
  const app = new OpenAPIHono();
  app.openAPIRegistry.registerPath(mcpRouteDoc);
  app.post(
    '/mcp',
    requireApiKey(config.API_KEYS),
    readToolCalls(),
    ...mcpRateLimits(config, deps.sessionTokens, deps.redis),
    async (c) => {
      const server = createMcpServer(
        deps,
        {
          client: c.get('client'),
          baseUrl: config.PUBLIC_URL ?? new URL(c.req.url).origin,
          signal: c.req.raw.signal,
        },
        deps.version,
      );
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      await server.connect(transport);
      try {
        return await transport.handleRequest(c.req.raw);
      } finally {
        await server.close();
      }
    },
  );
  return app;
}
