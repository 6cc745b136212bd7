/**
 * The load balancer of the replica tests: a TCP proxy on a free loopback port that sends each
 * connection to the first upstream that accepts it, so when one API replica is killed its
 * clients (the agent's event reporter, callers) reach the next, as behind a real balancer.
 */
import { createConnection, createServer, type Socket } from 'node:net';

export interface FailoverProxy {
  url: string;
  /** The upstream ports, in order of preference; settable after the proxy has started. */
  upstreams: number[];
  close(): Promise<void>;
}

function connectFirst(ports: number[], onSocket: (socket: Socket | undefined) => void) {
  const [port, ...rest] = ports;
  if (port === undefined) return onSocket(undefined);
  const upstream = createConnection({ host: '127.0.0.1', port });
  let connected = false;
  upstream.once('connect', () => {
    connected = true;
    onSocket(upstream);
  });
  // Refused (the replica is gone): the next one. A failure once connected is the pipe's to handle.
  upstream.once('error', () => {
    if (connected) return;
    upstream.destroy();
    connectFirst(rest, onSocket);
  });
}

export async function startFailoverProxy(): Promise<FailoverProxy> {
  const sockets = new Set<Socket>();
  const proxy: FailoverProxy = { url: '', upstreams: [], close: async () => {} };
  const server = createServer((client) => {
    sockets.add(client);
    client.pause();
    connectFirst(proxy.upstreams, (upstream) => {
      if (!upstream) return client.destroy();
      sockets.add(upstream);
      for (const [a, b] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        a.pipe(b);
        a.on('error', () => b.destroy());
        a.on('close', () => b.destroy());
      }
      client.resume();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  proxy.url = `http://127.0.0.1:${port}`;
  proxy.close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  return proxy;
}
