/**
 * The built call page (`npm run web:build` → web/dist): its files as they are, and index.html for
 * `/`. Mounted after every API route, so a path the API knows never reaches it and a path neither
 * knows still gets the API's JSON 404.
 */
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';

export function webRoutes(root: string) {
  const app = new Hono();
  app.use('/*', serveStatic({ root }));
  return app;
}
