/**
 * A user's tool backend on loopback, as tests need one: records every call the agent or the API
 * sends (headers, body, whether its signature checks out), and answers each tool as told: a
 * result, after a delay, or an HTTP error.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** The tool the tests and the bench give the agent: a city's weather, answered at `url`. */
export const weatherTool = (url: string) => ({
  name: 'get_weather',
  description: 'The weather in a city.',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string' } },
    required: ['city'],
  },
  url,
});

export interface ToolBehaviour {
  /** The JSON answered (default `{ ok: true }`), or made from the arguments. */
  result?: ((args: Record<string, unknown>) => unknown) | string | number | object;
  delayMs?: number;
  /** Answer this status instead (with a JSON error body). */
  status?: number;
  /** Answer a 307 redirect to this URL instead. */
  redirectTo?: string;
}

export interface ReceivedToolCall {
  path: string;
  body: { session_id: string; tool: string; arguments: Record<string, unknown>; call_id: string };
  headers: Record<string, string | string[] | undefined>;
  /** The signature header is right for the body, timestamp and the server's secret. */
  signatureValid: boolean;
  receivedAt: number;
}

export interface ToolServer {
  /** `http://127.0.0.1:<port>`: a tool's URL is this plus `/tools/<name>`. */
  url: string;
  urlOf(tool: string): string;
  calls: ReceivedToolCall[];
  behave(tool: string, behaviour: ToolBehaviour): void;
  close(): Promise<void>;
}

/** README's verification, as a user's server would run it (test/unit/tools-signature.test.ts). */
export function verifySignature(
  secret: string,
  timestamp: string,
  signature: string,
  body: string,
): boolean {
  const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
  const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
  return (
    fresh &&
    signature.length === expected.length &&
    timingSafeEqual(Buffer.from(signature), Buffer.from(expected))
  );
}

export async function startToolServer(secret: string): Promise<ToolServer> {
  const calls: ReceivedToolCall[] = [];
  const behaviours = new Map<string, ToolBehaviour>();
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = JSON.parse(text) as ReceivedToolCall['body'];
    calls.push({
      path: request.url ?? '',
      body,
      headers: request.headers,
      signatureValid: verifySignature(
        secret,
        String(request.headers['x-voice-agent-timestamp']),
        String(request.headers['x-voice-agent-signature']),
        text,
      ),
      receivedAt: Date.now(),
    });
    const behaviour = behaviours.get(body.tool) ?? {};
    await sleep(behaviour.delayMs ?? 0);
    if (behaviour.redirectTo) {
      response.writeHead(307, { location: behaviour.redirectTo });
      response.end();
      return;
    }
    if (behaviour.status) {
      response.writeHead(behaviour.status, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: 'the tool server was told to fail' }));
      return;
    }
    const result =
      typeof behaviour.result === 'function'
        ? behaviour.result(body.arguments)
        : (behaviour.result ?? { ok: true });
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(result));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    urlOf: (tool) => `${url}/tools/${tool}`,
    calls,
    behave: (tool, behaviour) => behaviours.set(tool, behaviour),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
