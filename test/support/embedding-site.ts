/**
 * A site that embeds the call page, for the page's end-to-end tests: a local HTTP server on an
 * origin of its own that serves one page framing the call page and, once the frame says it is
 * ready, posting it the session the site's backend opened (README's embed snippet, as written).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  PAGE_READY_MESSAGE,
  PAGE_SESSION_MESSAGE_TYPE,
  type PageSessionMessage,
} from '../../common/call-page.js';

export interface EmbeddingSite {
  origin: string;
  /** The page framing the call page at `pageUrl` and handing it `session`. */
  serve(pageUrl: string, session: { sessionId: string; sessionToken: string }): void;
  close(): Promise<void>;
}

function embeddingPage(pageUrl: string, message: PageSessionMessage): string {
  const pageOrigin = JSON.stringify(new URL(pageUrl).origin);
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>A shop</title><link rel="icon" href="data:,"></head>
<body>
<iframe id="call" title="Voice agent" src="${pageUrl}" allow="microphone; autoplay"
  width="1100" height="760"></iframe>
<script>
  window.readyMessages = 0;
  const frame = document.getElementById('call');
  window.addEventListener('message', (event) => {
    if (event.origin !== ${pageOrigin} || event.data?.type !== ${JSON.stringify(PAGE_READY_MESSAGE.type)}) return;
    window.readyMessages += 1;
    frame.contentWindow.postMessage(${JSON.stringify(message)}, ${pageOrigin});
  });
</script>
</body>
</html>`;
}

export async function startEmbeddingSite(): Promise<EmbeddingSite> {
  let html = '<!doctype html><title>Nothing yet</title>';
  const server = createServer((request, response) => {
    request.resume();
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    serve(pageUrl, session) {
      html = embeddingPage(pageUrl, { type: PAGE_SESSION_MESSAGE_TYPE, ...session });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
