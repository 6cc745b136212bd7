/** Turns zod validation failures into the API's JSON error shape (400, `invalid_request`). */
import type { Hook } from '@hono/zod-openapi';
import { apiError } from './errors.js';

// biome-ignore lint/suspicious/noExplicitAny: the hook is shared by routes of every shape
export const validationHook: Hook<any, any, any, any> = (result) => {
  if (result.success) return;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  throw apiError(400, 'invalid_request', `${where}${issue?.message ?? 'invalid request'}`);
};
