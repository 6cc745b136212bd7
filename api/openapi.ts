/** Response entries for the OpenAPI document, so every route describes its answers one way. */
import type { z } from '@hono/zod-openapi';
import { errorBodySchema } from '../common/protocol.js';

export const jsonResponse = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { 'application/json': { schema } },
});

export const errorResponse = (description: string) => jsonResponse(description, errorBodySchema);
