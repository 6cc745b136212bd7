/**
 * The tools configured for every session: TOOLS_FILE's HTTP tools and MCP_SERVERS, read and
 * checked once at start; a bad declaration stops the API or the worker, naming what is wrong.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type HttpTool, type McpServer, mcpServerSchema, toolsFileSchema } from './declarations.js';

/** The tools configured for every session. */
export interface ToolsSetup {
  http: HttpTool[];
  mcp: McpServer[];
}

export class ToolsConfigError extends Error {
  override name = 'ToolsConfigError';
}

/**
 * Reads TOOLS_FILE and MCP_SERVERS. MCP_SERVERS is a JSON array of `{url, headers}` and
 * `{command, args, env}`, or streamable-HTTP URLs separated by commas.
 */
export async function loadToolsSetup(config: {
  TOOLS_FILE?: string | undefined;
  MCP_SERVERS?: string | undefined;
}): Promise<ToolsSetup> {
  return {
    http: config.TOOLS_FILE ? await readToolsFile(config.TOOLS_FILE) : [],
    mcp: config.MCP_SERVERS ? parseMcpServers(config.MCP_SERVERS) : [],
  };
}

async function readToolsFile(file: string): Promise<HttpTool[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ToolsConfigError(`TOOLS_FILE ${file} cannot be read: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = parseYaml(text); // JSON is YAML too
  } catch (error) {
    throw new ToolsConfigError(
      `TOOLS_FILE ${file} is not JSON or YAML: ${(error as Error).message}`,
    );
  }
  return parseOrExplain(toolsFileSchema, data, `TOOLS_FILE ${file}`).tools;
}

export function parseMcpServers(value: string): McpServer[] {
  const trimmed = value.trim();
  if (!trimmed.startsWith('[')) {
    const urls = trimmed.split(',').map((url) => ({ url: url.trim() }));
    return parseOrExplain(z.array(mcpServerSchema), urls, 'MCP_SERVERS');
  }
  let data: unknown;
  try {
    data = JSON.parse(trimmed);
  } catch {
    throw new ToolsConfigError('MCP_SERVERS is neither a JSON array nor a list of URLs');
  }
  return parseOrExplain(z.array(mcpServerSchema), data, 'MCP_SERVERS');
}

function parseOrExplain<T extends z.ZodType>(schema: T, data: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues
    .map((issue) => `${issue.path.join('.') || '(top)'} ${issue.message}`)
    .join('; ');
  throw new ToolsConfigError(`${what}: ${issues}`);
}
