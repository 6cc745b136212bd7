/** Turns zod validation failures into the API's JSON error shape (400, `invalid_request`). */
import type { Hook } from '@hono/zod-openapi';
import type { z } from 'zod';
import { type ApiError, apiError } from './errors.js';

export function validationError(error: z.ZodError): ApiError {
  const issue = error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return apiError(400, 'invalid_request', `${where}${issue?.message ?? 'invalid request'}`);
}

// biome-ignore lint/suspicious/noExplicitAny: the hook is shared by routes of every shape
export const validationHook: Hook<any, any, any, any> = (result) => {
  if (!result.success) throw validationError(result.error);
};
