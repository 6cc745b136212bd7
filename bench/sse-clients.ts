/**
 * A child process of the SSE benchmark holding its share of feed subscribers on raw TCP sockets.
 * A read only notes its arrival time and keeps the bytes; frames are parsed out of them (the
 * project's SSE parser, fed the raw HTTP/1.1 body: a chunk-size line between frames is a field it
 * ignores) when the benchmark asks, so thousands of subscribers cost the client side as little as
 * possible while frames arrive. Times are epoch ms with sub-ms precision
 * (`performance.timeOrigin + performance.now()`), comparable across processes.
 */
import { connect, type Socket } from 'node:net';
import { sseParser } from '../common/sse.js';

export interface SubscriberSpec {
  session: number;
  path: string;
  /** Sent as `Authorization: Bearer`. */
  token: string;
}

export type ClientCommand =
  | { kind: 'open'; port: number; localAddresses: string[]; subscribers: SubscriberSpec[] }
  /**
   * When each subscriber received its session's event `seqBySession[session]` (sessions without
   * one are skipped), waiting up to `timeoutMs` for all of them.
   */
  | { kind: 'collect'; seqBySession: (number | undefined)[]; timeoutMs: number }
  | { kind: 'close' };

export type ClientReport =
  | { kind: 'opened'; failed: number }
  /** Receive times in subscriber order; NaN where nothing was expected or nothing came in time. */
  | { kind: 'collected'; times: number[] }
  | { kind: 'closed' };

const OPEN_CONCURRENCY = 64;
const now = () => performance.timeOrigin + performance.now();

class Subscriber {
  #socket: Socket | undefined;
  /** Reads since the last collect, with their arrival times. */
  #reads: { at: number; bytes: Buffer }[] = [];
  #arrivals = new Map<number, number>();
  /** When the read being parsed arrived: the time of each event it completes. */
  #readAt = 0;
  #parser = sseParser(({ id }) => {
    if (id !== undefined) this.#arrivals.set(Number(id), this.#readAt);
  });
  #decoder = new TextDecoder();

  constructor(readonly spec: SubscriberSpec) {}

  /** Resolves once the response head and the `retry:` hint are in; rejects on a non-200. */
  open(port: number, localAddress: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', localAddress });
      this.#socket = socket;
      let head = '';
      socket.setNoDelay(true);
      socket.on('error', reject);
      socket.on('connect', () => {
        socket.write(
          `GET ${this.spec.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
            `Authorization: Bearer ${this.spec.token}\r\nAccept: text/event-stream\r\n\r\n`,
        );
      });
      const onHead = (chunk: Buffer) => {
        head += chunk.toString('latin1');
        if (!head.startsWith('HTTP/1.1 200') && head.includes('\r\n')) {
          reject(new Error(head.split('\r\n', 1)[0]));
          socket.destroy();
        } else if (head.includes('retry:')) {
          socket.off('data', onHead);
          socket.on('data', (bytes: Buffer) => this.#reads.push({ at: now(), bytes }));
          resolve();
        }
      };
      socket.on('data', onHead);
    });
  }

  /** When the frame with this seq arrived, if it has. */
  arrivalOf(seq: number): number | undefined {
    for (const { at, bytes } of this.#reads) {
      this.#readAt = at;
      this.#parser.feed(this.#decoder.decode(bytes, { stream: true }));
    }
    this.#reads = [];
    return this.#arrivals.get(seq);
  }

  forget() {
    this.#arrivals.clear();
  }

  close() {
    this.#socket?.destroy();
  }
}

let subscribers: Subscriber[] = [];

async function openAll(command: Extract<ClientCommand, { kind: 'open' }>): Promise<number> {
  const fresh = command.subscribers.map((spec) => new Subscriber(spec));
  let next = 0;
  let failed = 0;
  const opener = async () => {
    while (next < fresh.length) {
      const index = next++;
      const address = command.localAddresses[index % command.localAddresses.length] as string;
      await (fresh[index] as Subscriber).open(command.port, address).catch(() => {
        failed += 1;
      });
    }
  };
  await Promise.all(Array.from({ length: OPEN_CONCURRENCY }, opener));
  subscribers = subscribers.concat(fresh);
  return failed;
}

async function collect({ seqBySession, timeoutMs }: Extract<ClientCommand, { kind: 'collect' }>) {
  const deadline = Date.now() + timeoutMs;
  const times = subscribers.map(() => Number.NaN);
  let missing = subscribers.map((_, index) => index);
  for (;;) {
    missing = missing.filter((index) => {
      const subscriber = subscribers[index] as Subscriber;
      const seq = seqBySession[subscriber.spec.session];
      if (seq === undefined) return false;
      const at = subscriber.arrivalOf(seq);
      if (at !== undefined) times[index] = at;
      return at === undefined;
    });
    if (missing.length === 0 || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const subscriber of subscribers) subscriber.forget();
  return times;
}

const reply = (report: ClientReport) => process.send?.(report);

process.on('message', async (command: ClientCommand) => {
  if (command.kind === 'open') reply({ kind: 'opened', failed: await openAll(command) });
  else if (command.kind === 'collect') reply({ kind: 'collected', times: await collect(command) });
  else {
    for (const subscriber of subscribers) subscriber.close();
    reply({ kind: 'closed' });
    process.disconnect();
  }
});
