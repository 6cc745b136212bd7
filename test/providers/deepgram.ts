// Fake Deepgram live transcription (WebSocket /v1/listen) on loopback. An energy detector on the
// received linear16 audio stands in for recognition: speech produces interim and final `Results`
// carrying scripted transcripts, in the message shapes of Deepgram's live API; with settable
// final latency, fault injection and per-connection recording. Prerecorded transcription (HTTP
// POST /v1/listen) answers the same scripted transcripts.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { type ListenConfig, ListenSession } from './deepgram-listen.js';
import { answerPrerecorded, type RecordedPrerecordedRequest } from './deepgram-prerecorded.js';
import { FaultQueue } from './faults.js';

/** `times` defaults to 1. `drop` terminates the socket once the current utterance has
 * `afterSpeechMs` (default 300) of voiced audio; a prerecorded request it drops at once. */
export type DeepgramFault =
  | { kind: 'reject'; status: number; times?: number }
  | { kind: 'drop'; afterSpeechMs?: number; times?: number };

export interface RecordedUtterance {
  transcript: string;
  /** When the utterance reached the minimum speech length. */
  speechStartedAt: number;
  /** When its last voiced audio arrived. */
  speechEndedAt?: number;
  finalSentAt?: number;
}

export interface RecordedConnection {
  /** Repeated parameters are joined with commas. */
  query: Record<string, string>;
  connectedAt: number;
  closedAt?: number;
  receivedAudioBytes: number;
  /** `type` of each text message (`KeepAlive`, `Finalize`, `CloseStream`). */
  controlMessages: string[];
  utterances: RecordedUtterance[];
}

export interface DeepgramServerOptions {
  port?: number;
  /** Transcript used when no scripted one is queued. */
  defaultTranscript?: string;
}

export interface DeepgramServer {
  /** `ws://127.0.0.1:<port>`, the deepgram plugin's `baseUrl`. */
  url: string;
  connections: RecordedConnection[];
  prerecordedRequests: RecordedPrerecordedRequest[];
  scriptTranscripts(texts: string[]): void;
  /**
   * `finalDelayMs`: extra wait before each final. `endpointingMs`: the silence that ends an
   * utterance, for connections opened from now on (default: the request's `endpointing`, at
   * least 200 ms, since espeak's commas are pauses).
   */
  setLatency(latency: { finalDelayMs?: number; endpointingMs?: number }): void;
  /** Faults for connections opened from now on. */
  injectFault(fault: DeepgramFault): void;
  /**
   * Cuts the live connections open now, as `drop` does (without a close frame, once an
   * utterance has `afterSpeechMs` of voiced audio): a socket lost in the middle of a call.
   * Answers how many connections it will cut.
   */
  dropLiveConnections(options?: { afterSpeechMs?: number }): number;
  clearFaults(): void;
  close(): Promise<void>;
}

const DEFAULT_ENDPOINTING_MS = 300;
// Plosive closures (≤ 50 ms) and commas (~160 ms) in espeak speech are not pauses.
const MIN_ENDPOINTING_MS = 200;
const DEFAULT_DROP_AFTER_SPEECH_MS = 300;

export async function startDeepgramServer(
  options: DeepgramServerOptions = {},
): Promise<DeepgramServer> {
  const connections: RecordedConnection[] = [];
  const prerecordedRequests: RecordedPrerecordedRequest[] = [];
  const scripted: string[] = [];
  const faults = new FaultQueue<DeepgramFault>();
  const live = new Set<ListenSession>();
  let finalDelayMs = 0;
  let endpointingMs: number | undefined;

  const nextTranscript = () => scripted.shift() ?? options.defaultTranscript ?? 'hello';

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'POST' && url.pathname.replace(/\/$/, '') === '/v1/listen') {
      const deps = {
        requests: prerecordedRequests,
        nextTranscript,
        takeFault: () => faults.take(),
      };
      void answerPrerecorded(req, res, queryRecord(url.searchParams), deps);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ err_code: 'NOT_FOUND', err_msg: 'Only /v1/listen' }));
  });
  const wss = new WebSocketServer({ noServer: true });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname.replace(/\/$/, '') !== '/v1/listen') {
      return rejectUpgrade(socket, 404, 'NOT_FOUND', `No route ${url.pathname}`);
    }
    if (!/^Token\s+\S/.test(req.headers.authorization ?? '')) {
      return rejectUpgrade(socket, 401, 'INVALID_AUTH', 'Invalid credentials.');
    }
    const encoding = url.searchParams.get('encoding');
    if (encoding !== null && encoding !== 'linear16') {
      return rejectUpgrade(socket, 400, 'Bad Request', `encoding ${encoding} is not supported`);
    }
    const fault = faults.take();
    if (fault?.kind === 'reject') {
      return rejectUpgrade(socket, fault.status, 'INJECTED_FAULT', 'Injected fault');
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const record: RecordedConnection = {
        query: queryRecord(url.searchParams),
        connectedAt: Date.now(),
        receivedAudioBytes: 0,
        controlMessages: [],
        utterances: [],
      };
      connections.push(record);
      const session = new ListenSession(ws, record, listenConfig(url.searchParams, endpointingMs), {
        nextTranscript,
        finalDelayMs: () => finalDelayMs,
        dropAfterSpeechMs:
          fault?.kind === 'drop'
            ? (fault.afterSpeechMs ?? DEFAULT_DROP_AFTER_SPEECH_MS)
            : undefined,
      });
      live.add(session);
      ws.on('message', (data, isBinary) => session.receive(data, isBinary));
      ws.on('close', () => {
        live.delete(session);
        session.stop();
      });
      // Protocol errors are followed by 'close'; without a listener they would crash the server.
      ws.on('error', () => {});
    });
  });

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `ws://127.0.0.1:${port}`,
    connections,
    prerecordedRequests,
    scriptTranscripts: (texts) => {
      scripted.push(...texts);
    },
    setLatency: (latency) => {
      finalDelayMs = latency.finalDelayMs ?? finalDelayMs;
      endpointingMs = latency.endpointingMs ?? endpointingMs;
    },
    injectFault: (fault) => faults.inject(fault),
    dropLiveConnections: (options) => {
      for (const session of live) {
        session.dropAfterSpeech(options?.afterSpeechMs ?? DEFAULT_DROP_AFTER_SPEECH_MS);
      }
      return live.size;
    },
    clearFaults: () => faults.clear(),
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function listenConfig(query: URLSearchParams, endpointingOverrideMs?: number): ListenConfig {
  const endpointing = Number(query.get('endpointing'));
  const utteranceEndMs = Number(query.get('utterance_end_ms'));
  return {
    model: query.get('model') ?? 'nova-3',
    sampleRate: Number(query.get('sample_rate')) || 16000,
    channels: Number(query.get('channels')) || 1,
    endpointingMs:
      endpointingOverrideMs ?? Math.max(endpointing || DEFAULT_ENDPOINTING_MS, MIN_ENDPOINTING_MS),
    utteranceEndMs: utteranceEndMs > 0 ? utteranceEndMs : undefined,
    interimResults: query.get('interim_results') === 'true',
    vadEvents: query.get('vad_events') === 'true',
    punctuate: query.get('punctuate') === 'true' || query.get('smart_format') === 'true',
  };
}

function queryRecord(query: URLSearchParams): Record<string, string> {
  const record: Record<string, string> = {};
  for (const key of new Set(query.keys())) record[key] = query.getAll(key).join(',');
  return record;
}

function rejectUpgrade(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ err_code: code, err_msg: message, request_id: randomUUID() });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
