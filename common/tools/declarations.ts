/**
 * What the agent may call: HTTP tools (a TOOLS_FILE, and per session in `POST /api/sessions`) and
 * MCP servers (MCP_SERVERS). Declarations are checked here, once, so a bad one is refused when the
 * API or the worker starts (setup.ts reads them), or with 400 `invalid_request` when a session
 * brings it. No Node APIs: the wire protocol (and so the page's type check) includes these.
 */
import { Ajv } from 'ajv';
import { z } from 'zod';

/** The name an LLM calls a tool by (OpenAI's rule for function names). */
export const toolNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1–64 letters, digits, _ or -');

const ajv = new Ajv({ strict: false });

/** A JSON Schema of an object, as function parameters must be; checked against the meta-schema. */
export const toolParametersSchema = z
  .record(z.string(), z.unknown())
  .superRefine((schema, ctx) => {
    if (schema.type !== 'object') {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON Schema with "type": "object"' });
      return;
    }
    try {
      ajv.compile(schema);
      ajv.removeSchema(schema); // checked, not kept: Ajv would hold every schema it has seen
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        message: `is not a valid JSON Schema: ${(error as Error).message}`,
      });
    }
  })
  .meta({ description: 'JSON Schema of the arguments (an object schema)' });

export const TOOL_TIMEOUT_DEFAULT_MS = 10_000;
/** How long a tool has to answer. */
const toolTimeoutMs = z.number().int().min(100).max(120_000).default(TOOL_TIMEOUT_DEFAULT_MS);

export const httpToolSchema = z
  .object({
    name: toolNameSchema,
    description: z.string().max(1024).regex(/\S/, 'must not be blank'),
    parameters: toolParametersSchema.default({ type: 'object', properties: {} }),
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .meta({ description: 'Where the call is POSTed, signed (README, Tools)' }),
    timeoutMs: toolTimeoutMs,
    /**
     * The call may be sent twice: a connection failure or a 502/503/504 is tried once more.
     * Otherwise a call is sent once, whatever happens.
     */
    idempotent: z.boolean().default(false),
  })
  .strict();
export type HttpTool = z.infer<typeof httpToolSchema>;

/** A list of HTTP tools whose names are unique. */
export const httpToolListSchema = z
  .array(httpToolSchema)
  .max(64)
  .superRefine((tools, ctx) => {
    const seen = new Set<string>();
    for (const [index, tool] of tools.entries()) {
      if (seen.has(tool.name)) {
        ctx.addIssue({ code: 'custom', path: [index, 'name'], message: 'is declared twice' });
      }
      seen.add(tool.name);
    }
  });

/** TOOLS_FILE: `{ tools: [...] }` in JSON or YAML. */
export const toolsFileSchema = z.object({ tools: httpToolListSchema }).strict();

const headersSchema = z.record(z.string(), z.string()).optional();
export const mcpServerSchema = z.union([
  z
    .object({
      url: z.url({ protocol: /^https?$/ }),
      headers: headersSchema,
      timeoutMs: toolTimeoutMs,
    })
    .strict(),
  z
    .object({
      command: z.string().min(1),
      args: z.array(z.string()).default([]),
      env: z.record(z.string(), z.string()).optional(),
      timeoutMs: toolTimeoutMs,
    })
    .strict(),
]);
export type McpServer = z.infer<typeof mcpServerSchema>;
