/**
 * `/docs`: Swagger UI for `/openapi.json`. Its script and stylesheet come from the jsDelivr CDN
 * (the page's Content-Security-Policy allows that host and no inline script), and the script that
 * starts it is served from here, at `/docs/init.js`.
 */
import { swaggerUI } from '@hono/swagger-ui';
import { Hono } from 'hono';

const INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  dom_id: '#swagger-ui',
  url: '/openapi.json',
  // Keeps the page from sending the document's URL to swagger.io's validator.
  validatorUrl: 'none',
});
`;

export function docsRoutes() {
  const app = new Hono();
  app.get(
    '/docs',
    swaggerUI({
      url: '/openapi.json',
      title: 'Voice agent server API',
      version: '5',
      manuallySwaggerUIHtml: ({ css, js }) =>
        [
          '<div id="swagger-ui"></div>',
          ...css.map((href) => `<link rel="stylesheet" href="${href}" />`),
          ...js.map((src) => `<script src="${src}" crossorigin="anonymous"></script>`),
          '<script src="/docs/init.js"></script>',
        ].join('\n'),
    }),
  );
  app.get('/docs/init.js', (c) =>
    c.body(INIT_SCRIPT, 200, {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=3600',
    }),
  );
  return app;
}
