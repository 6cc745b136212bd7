/**
 * `POST /mcp` in the OpenAPI document: a JSON-RPC message (or a batch) in, JSON-RPC out. The
 * transport's own refusals (wrong Accept, Content-Type or JSON) are JSON-RPC errors; the API's
 * (key, body size, rate, a batch of tool calls) are the API's error body.
 */
import { z } from '@hono/zod-openapi';
import { errorBodySchemaFor } from '../../common/protocol.js';
import { errorResponse, jsonResponse } from '../openapi.js';

const jsonRpcMessage = z.looseObject({
  jsonrpc: z.literal('2.0'),
  method: z.string().optional(),
  id: z.union([z.string(), z.number()]).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
});

const jsonRpcError = z.object({
  jsonrpc: z.literal('2.0'),
  error: z.object({ code: z.number().int(), message: z.string() }),
  id: z.union([z.string(), z.number(), z.null()]),
});

export const mcpRouteDoc = {
  method: 'post',
  path: '/mcp',
  summary: 'The API as an MCP server (streamable HTTP, stateless)',
  description:
    'Tools `start_conversation`, `send_message`, `get_transcript`, `get_session` and ' +
    '`end_conversation` (README, The API as an MCP server). Send `Accept: application/json, ' +
    'text/event-stream`; answers are JSON. A tool the API refuses answers a result with ' +
    '`isError` and the error code, not an HTTP error.',
  request: {
    body: {
      content: {
        'application/json': { schema: z.union([jsonRpcMessage, z.array(jsonRpcMessage)]) },
      },
    },
  },
  responses: {
    200: jsonResponse('The JSON-RPC response(s)', z.unknown()),
    202: { description: 'Accepted: the body held only notifications or responses' },
    400: jsonResponse(
      'Not JSON or not a JSON-RPC message (a JSON-RPC error), or a batch of more than one tool call',
      z.union([jsonRpcError, errorBodySchemaFor(['invalid_request'])]),
    ),
    401: errorResponse('No API key, or not a valid one (when API_KEYS is set)', [
      'api_key_required',
      'invalid_api_key',
    ]),
    406: jsonResponse('Accept does not name application/json and text/event-stream', jsonRpcError),
    413: errorResponse('Body over 128 KiB', ['request_too_large']),
    415: jsonResponse('A body that is not JSON', jsonRpcError),
    429: errorResponse(
      'Too many sessions opened or messages sent (with Retry-After), per client or session',
      ['rate_limited'],
    ),
  },
} as const;
