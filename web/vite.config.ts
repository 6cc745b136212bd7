/**
 * The call page: `npm run web:dev` serves it on :5173 and forwards API paths to the API, so the
 * page talks to one origin in development as it does when the API serves the build.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const apiUrl = `http://127.0.0.1:${process.env.API_PORT || 8000}`;
const toApi = { target: apiUrl };

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // React's automatic JSX runtime from Vite's own transformer; no React plugin needed without
  // fast refresh.
  oxc: { jsx: { runtime: 'automatic' } },
  // livekit-client alone is about 600 kB minified (180 kB gzipped); one chunk is fine for one page.
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1000 },
  server: {
    host: '127.0.0.1',
    port: 5173,
    strictPort: true,
    proxy: { '/api': toApi, '/health': toApi, '/openapi.json': toApi, '/docs': toApi },
  },
});
