/**
 * Security headers (hono/secure-headers) with a Content-Security-Policy for each kind of answer:
 * the API's JSON and audio may load nothing and be framed by no one; the call page loads only its
 * own files, connects only to the API and to the LiveKit server it is handed, and may be framed
 * only by its own origin and the embedding origins (CORS_ORIGINS: the sites that hand it a
 * session); the API docs page (/docs) loads Swagger UI from the jsDelivr CDN.
 */
import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';

export interface SecureHeadersOptions {
  /** The LiveKit URL handed to browsers (LIVEKIT_PUBLIC_URL, else LIVEKIT_URL). */
  livekitUrl: string;
  /** PUBLIC_URL: the origin of the URLs the API hands out, when set. */
  publicUrl?: string | undefined;
  /** Origins whose pages may embed the call page in a frame (`*`: any, development only). */
  embedOrigins?: readonly string[];
}

export const SWAGGER_UI_CDN = 'https://cdn.jsdelivr.net';

/** Paths with the API's policy; every other path is the call page's (or /docs). */
const API_PATHS = ['/api/', '/internal/', '/health', '/openapi.json'];

/**
 * Where livekit-client connects for a server URL: its signal WebSocket, and the same host over
 * HTTP(S) for the connection check it makes after a failure. LiveKit Cloud hands out other hosts
 * of its domain for regions.
 */
export function livekitSources(livekitUrl: string): string[] {
  const url = new URL(livekitUrl);
  const secure = url.protocol === 'wss:' || url.protocol === 'https:';
  const sources = [
    `${secure ? 'wss' : 'ws'}://${url.host}`,
    `${secure ? 'https' : 'http'}://${url.host}`,
  ];
  if (url.hostname.endsWith('.livekit.cloud')) {
    sources.push('wss://*.livekit.cloud', 'https://*.livekit.cloud');
  }
  return sources;
}

const shared = {
  // HSTS only means something over HTTPS, where a proxy in front of the API should set it.
  strictTransportSecurity: false,
  permissionsPolicy: { camera: false, geolocation: false, microphone: ['self'] },
};

export function securityHeaders({
  livekitUrl,
  publicUrl,
  embedOrigins = [],
}: SecureHeadersOptions): MiddlewareHandler {
  const apiOrigin = publicUrl ? [new URL(publicUrl).origin] : [];
  const api = secureHeaders({
    ...shared,
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    xFrameOptions: 'DENY',
  });
  // A voice reply is played by <audio> elements of pages on other origins too (its id is its
  // credential), which a same-origin resource policy would block.
  const audio = secureHeaders({
    ...shared,
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    xFrameOptions: 'DENY',
    crossOriginResourcePolicy: 'cross-origin',
  });
  const page = secureHeaders({
    ...shared,
    contentSecurityPolicy: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      mediaSrc: ["'self'", ...apiOrigin],
      connectSrc: ["'self'", ...apiOrigin, ...livekitSources(livekitUrl)],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'self'", ...embedOrigins],
    },
    // X-Frame-Options cannot name other origins (and browsers that know frame-ancestors ignore
    // it): sent only where it says the same.
    xFrameOptions: embedOrigins.length === 0 ? 'SAMEORIGIN' : false,
  });
  const docs = secureHeaders({
    ...shared,
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'", SWAGGER_UI_CDN],
      styleSrc: [SWAGGER_UI_CDN],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
    xFrameOptions: 'DENY',
  });
  return async function securityHeaders(c, next) {
    const path = c.req.path;
    if (path.startsWith('/api/voice/')) return audio(c, next);
    if (API_PATHS.some((prefix) => path === prefix || path.startsWith(prefix))) return api(c, next);
    if (path === '/docs' || path.startsWith('/docs/')) return docs(c, next);
    return page(c, next);
  };
}
