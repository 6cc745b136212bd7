/**
 * An MCP tool server on loopback, built with the official SDK's server over streamable HTTP
 * (stateless): one tool, `order_status`, whose answer names the order, and a record of its calls.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';

export interface McpToolServer {
  /** The streamable-HTTP endpoint, for MCP_SERVERS. */
  url: string;
  /** The arguments of each `order_status` call. */
  calls: { orderId: string }[];
  /** The Authorization header of each request, to see configured headers arrive. */
  authorizations: (string | undefined)[];
  close(): Promise<void>;
}

export const orderStatus = (orderId: string) => `Order ${orderId} shipped on Monday.`;

export async function startMcpToolServer(): Promise<McpToolServer> {
  const calls: McpToolServer['calls'] = [];
  const authorizations: McpToolServer['authorizations'] = [];
  const mcpServer = () => {
    const server = new McpServer({ name: 'test-orders', version: '1.0.0' });
    server.registerTool(
      'order_status',
      {
        description: 'Tells where an order is.',
        inputSchema: { orderId: z.string().describe('The order number') },
      },
      async ({ orderId }) => {
        calls.push({ orderId });
        return { content: [{ type: 'text', text: orderStatus(orderId) }] };
      },
    );
    return server;
  };
  const http = createServer(async (request, response) => {
    authorizations.push(request.headers.authorization);
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    const server = mcpServer();
    response.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(request, response);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    calls,
    authorizations,
    close: () =>
      new Promise((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
