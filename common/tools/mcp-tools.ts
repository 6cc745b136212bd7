/**
 * MCP servers as tool sources, through the official SDK's client: each server is connected and its
 * tools listed once (at job start in the agent, at start in the API); a call goes to the server
 * that listed the tool.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type McpServer, toolNameSchema } from './declarations.js';
import { TOOL_RESULT_MAX_BYTES, ToolCallError } from './http-tool.js';

export interface McpTool {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  call(args: Record<string, unknown>, signal?: AbortSignal): Promise<string>;
}

export interface McpConnection {
  /** What each server answered, first server first; a server that failed is left out. */
  tools: McpTool[];
  /** The servers that could not be reached or listed, with why. */
  failures: { server: string; message: string }[];
  /** Tools left out because an LLM could not call them by their name (OpenAI's rule), with why. */
  leftOut: { server: string; tool: string; reason: string }[];
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** Called when a server's connection ends by itself (a stdio server exited, for one). */
  onLost?: (server: McpServer) => void;
}

const CLIENT_INFO = { name: 'voice-agent-server', version: '0.1.0' };

/** Where a server is, for logs and errors (a URL without its query, or the command). */
export const describeMcpServer = (server: McpServer) =>
  'url' in server ? (server.url.split('?')[0] ?? server.url) : server.command;

export async function connectMcpServers(
  servers: McpServer[],
  options: ConnectOptions = {},
): Promise<McpConnection> {
  const clients: Client[] = [];
  const failures: McpConnection['failures'] = [];
  const leftOut: McpConnection['leftOut'] = [];
  let closing = false;
  const listed = await Promise.all(
    servers.map(async (server) => {
      const client = new Client(CLIENT_INFO);
      try {
        await client.connect(transportFor(server), { timeout: server.timeoutMs });
        clients.push(client);
        const { tools } = await client.listTools(undefined, { timeout: server.timeoutMs });
        client.onclose = () => {
          if (!closing) options.onLost?.(server);
        };
        const callable: McpTool[] = [];
        for (const tool of tools) {
          const name = toolNameSchema.safeParse(tool.name);
          if (name.success) callable.push(mcpTool(client, server, tool));
          else {
            const reason = name.error.issues[0]?.message ?? 'not a tool name';
            leftOut.push({ server: describeMcpServer(server), tool: tool.name, reason });
          }
        }
        return callable;
      } catch (error) {
        failures.push({ server: describeMcpServer(server), message: (error as Error).message });
        await client.close().catch(() => {});
        return [];
      }
    }),
  );
  return {
    tools: listed.flat(),
    failures,
    leftOut,
    close: async () => {
      closing = true;
      await Promise.allSettled(clients.map((client) => client.close()));
    },
  };
}

/** Logs the tools left out for their names, once per connection. */
export function warnLeftOut(
  connection: McpConnection,
  logger: { warn(details: object, message: string): void },
) {
  for (const leftOut of connection.leftOut) {
    logger.warn(leftOut, 'MCP tool left out: an LLM cannot call it by its name');
  }
}

function transportFor(server: McpServer) {
  if ('url' in server) {
    return new StreamableHTTPClientTransport(new URL(server.url), {
      requestInit: { headers: server.headers ?? {} },
    });
  }
  return new StdioClientTransport({
    command: server.command,
    args: server.args,
    // The SDK adds PATH, HOME and the like: the child never sees this process's secrets.
    ...(server.env && { env: server.env }),
    stderr: 'inherit',
  });
}

type ListedTool = Awaited<ReturnType<Client['listTools']>>['tools'][number];

function mcpTool(client: Client, server: McpServer, tool: ListedTool): McpTool {
  return {
    name: tool.name,
    description: tool.description ?? tool.title ?? tool.name,
    parameters: tool.inputSchema,
    async call(args, signal) {
      let result: Awaited<ReturnType<Client['callTool']>>;
      try {
        result = await client.callTool({ name: tool.name, arguments: args }, undefined, {
          timeout: server.timeoutMs,
          ...(signal && { signal }),
        });
      } catch (error) {
        if (signal?.aborted) throw error;
        throw new ToolCallError(`${tool.name} failed: ${(error as Error).message}`);
      }
      const text = resultText(result);
      if (result.isError) throw new ToolCallError(`${tool.name} failed: ${text.slice(0, 200)}`);
      if (Buffer.byteLength(text) > TOOL_RESULT_MAX_BYTES) {
        throw new ToolCallError(`${tool.name} answered more than ${TOOL_RESULT_MAX_BYTES} bytes`);
      }
      return text;
    },
  };
}

/** The result's text parts joined; other parts (images, resources) as JSON. */
function resultText(result: Awaited<ReturnType<Client['callTool']>>): string {
  if (result.structuredContent !== undefined && !Array.isArray(result.content)) {
    return JSON.stringify(result.structuredContent);
  }
  const parts = (result.content ?? []) as { type: string; text?: string }[];
  return parts.map((part) => (part.type === 'text' ? part.text : JSON.stringify(part))).join('\n');
}
