/** `GET /api/models`: the models of the configured LLM endpoint, as that endpoint lists them. */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppDeps } from '../app.js';
import { errorResponse } from '../openapi.js';

const modelsRoute = createRoute({
  method: 'get',
  path: '/api/models',
  summary: 'Models of the configured LLM endpoint',
  responses: {
    200: {
      description: 'The models, and which one the agent uses',
      content: {
        'application/json': {
          schema: z.object({
            configured: z.string(),
            models: z.array(z.object({ id: z.string(), owned_by: z.string() })),
          }),
        },
      },
    },
    502: errorResponse('The endpoint refused'),
    503: errorResponse('The endpoint is unavailable'),
  },
});

export function modelRoutes({ chatLlm, config }: AppDeps) {
  const app = new OpenAPIHono();
  app.openapi(modelsRoute, async (c) => {
    const models = await chatLlm.listModels(c.req.raw.signal);
    return c.json({ configured: config.LLM_MODEL, models }, 200);
  });
  return app;
}
