/**
 * CORS: pages from the allowed origins may call the API (with the session token or API key in a
 * header; no cookies are involved, so no credentials mode). Any other origin gets no
 * Access-Control-Allow-Origin, and the browser keeps the answer from it.
 */
import type { MiddlewareHandler } from 'hono';
import { cors as honoCors } from 'hono/cors';

/** The Vite dev page (`npm run web:dev`), allowed in development when CORS_ORIGINS is unset. */
export const DEV_ORIGINS = ['http://localhost:5173', 'http://127.0.0.1:5173'];

export function allowedOrigins(config: { CORS_ORIGINS: string[]; NODE_ENV: string }): string[] {
  if (config.CORS_ORIGINS.length > 0) return config.CORS_ORIGINS;
  return config.NODE_ENV === 'production' ? [] : DEV_ORIGINS;
}

export function cors(origins: readonly string[]): MiddlewareHandler {
  const anyOrigin = origins.includes('*');
  return honoCors({
    origin: anyOrigin ? '*' : (origin) => (origins.includes(origin) ? origin : null),
    allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    // X-Page-Ticket only so that a page of another origin trying to open sessions the call
    // page's way is told why it may not (403 origin_not_allowed), rather than failing unexplained.
    allowHeaders: [
      'Authorization',
      'Content-Type',
      'X-API-Key',
      'Last-Event-ID',
      'X-Request-Id',
      'X-Page-Ticket',
    ],
    exposeHeaders: ['Retry-After', 'X-Request-Id', 'Content-Range', 'Accept-Ranges'],
    maxAge: 600,
  });
}
