// Fake OpenAI API on loopback: chat completions (SSE and JSON), audio speech (espeak-ng),
// audio transcriptions (scripted texts) and models, in the wire format the `openai` client and
// the LiveKit OpenAI plugin use; with settable latency, fault injection and request recording.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { decodeWav, encodeWav, synthesizeSpeech } from '../support/speech.js';
import { FaultQueue } from './faults.js';
import {
  describeForm,
  Exchange,
  HttpError,
  openAIError,
  parseForm,
  parseJson,
  parseWith,
  readBody,
  redactedHeaders,
} from './openai-http.js';

export type OpenAIRoute = 'chat' | 'speech' | 'transcriptions' | 'models';

/** `times` defaults to 1. `drop` destroys the socket `afterMs` (default 0) after the first
 * body bytes and never completes the response, so a stream is cut after its first chunk. */
export type OpenAIFault =
  | { kind: 'status'; status: number; times?: number }
  | { kind: 'timeout'; times?: number }
  | { kind: 'drop'; afterMs?: number; times?: number };

export interface OpenAILatency {
  llmFirstTokenMs: number;
  llmTokenIntervalMs: number;
  /** A floor: espeak synthesis runs during it. */
  ttsFirstByteMs: number;
  sttMs: number;
}

export interface RecordedRequest {
  route: OpenAIRoute;
  /** Parsed JSON, or form fields with uploads as `{ filename, size, type }`. */
  body: unknown;
  /** The authorization value is redacted. */
  headers: Record<string, string>;
  receivedAt: number;
  completedAt?: number;
  status?: number;
  /** The client closed the connection before the response was complete. */
  aborted: boolean;
}

// An assistant message with tool_calls may leave its content out.
const chatMessageSchema = z.looseObject({ role: z.string(), content: z.unknown().optional() });
const chatRequestSchema = z.looseObject({
  model: z.string(),
  messages: z.array(chatMessageSchema),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
});
const speechRequestSchema = z.looseObject({
  model: z.string(),
  input: z.string().min(1),
  voice: z.string(),
  response_format: z.string().default('mp3'),
});

export type ChatMessage = z.infer<typeof chatMessageSchema>;
export type ChatCompletionRequest = z.infer<typeof chatRequestSchema>;
/** The LLM asks for tools instead of answering (OpenAI's `tool_calls`, streamed as deltas). */
export interface ToolCallsReply {
  toolCalls: { name: string; arguments: Record<string, unknown> }[];
}
export type Reply = string | ToolCallsReply;
export type ReplyFunction = (messages: ChatMessage[], request: ChatCompletionRequest) => Reply;

export interface OpenAIServerOptions {
  port?: number;
  models?: string[];
  /** Transcription answered when no scripted text is queued. */
  defaultTranscript?: string;
}

export interface OpenAIServer {
  /** `http://127.0.0.1:<port>/v1`, the plugins' `baseURL`. */
  url: string;
  requests: RecordedRequest[];
  chatRequests(): ChatCompletionRequest[];
  setReply(reply: ReplyFunction): void;
  setLatency(latency: Partial<OpenAILatency>): void;
  injectFault(route: OpenAIRoute, fault: OpenAIFault): void;
  clearFaults(): void;
  scriptTranscriptions(texts: string[]): void;
  close(): Promise<void>;
}

const ROUTES: Record<string, OpenAIRoute> = {
  'POST /v1/chat/completions': 'chat',
  'POST /v1/audio/speech': 'speech',
  'POST /v1/audio/transcriptions': 'transcriptions',
  'GET /v1/models': 'models',
};
const TTS_SAMPLE_RATE = 24000;
const TTS_CHUNK_BYTES = 4800; // 100 ms of 24 kHz s16le
const SYSTEM_FINGERPRINT = 'fp_fake_openai';
const MODEL_CREATED_S = 1_700_000_000;

export function lastUserText(messages: ChatMessage[]): string {
  const content = messages.findLast((message) => message.role === 'user')?.content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (part?.type === 'text' ? String(part.text) : '')).join('');
}

/** A message's content as text (parts as JSON). */
export const messageText = (message: ChatMessage | undefined) =>
  typeof message?.content === 'string' ? message.content : JSON.stringify(message?.content);

/**
 * A reply that repeats every user message the request carries, in order: a test sees from the
 * answer alone which conversation the LLM was given (`You told me: A / B`).
 */
export function echoUserMessages(messages: ChatMessage[]): string {
  return `You told me: ${messages
    .filter((message) => message.role === 'user')
    .map(messageText)
    .join(' / ')}`;
}

export function defaultReply(messages: ChatMessage[]): string {
  return `I heard: "${lastUserText(messages)}". How can I help?`;
}

/**
 * An LLM that uses one tool: asks for `call` when the last user message matches `when`, answers
 * `answer(result)` once the tool's result (or failure) is the last message, and otherwise the
 * default reply.
 */
export function replyWithTool(
  when: RegExp,
  call: ToolCallsReply['toolCalls'][number],
  answer: (result: string) => string,
): ReplyFunction {
  return (messages) => {
    const last = messages.at(-1);
    if (last?.role === 'tool') return answer(messageText(last));
    if (last?.role === 'user' && when.test(lastUserText(messages))) return { toolCalls: [call] };
    return defaultReply(messages);
  };
}

export async function startOpenAIServer(options: OpenAIServerOptions = {}): Promise<OpenAIServer> {
  const models = options.models ?? ['gpt-4.1-mini', 'tts-1', 'whisper-1'];
  const requests: RecordedRequest[] = [];
  const faults = {
    chat: new FaultQueue<OpenAIFault>(),
    speech: new FaultQueue<OpenAIFault>(),
    transcriptions: new FaultQueue<OpenAIFault>(),
    models: new FaultQueue<OpenAIFault>(),
  };
  const scriptedTranscripts: string[] = [];
  let reply: ReplyFunction = defaultReply;
  let latency: OpenAILatency = {
    llmFirstTokenMs: 0,
    llmTokenIntervalMs: 0,
    ttsFirstByteMs: 0,
    sttMs: 0,
  };

  /** Tool calls as OpenAI sends them: each call's id and name first, its arguments in pieces. */
  async function callTools(
    exchange: Exchange,
    request: ChatCompletionRequest,
    answer: ToolCallsReply,
  ): Promise<void> {
    const id = `chatcmpl-${randomUUID().replaceAll('-', '')}`;
    const head = { id, created: Math.floor(Date.now() / 1000), model: request.model };
    const calls = answer.toolCalls.map((call, index) => ({
      index,
      id: `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
      type: 'function' as const,
      function: { name: call.name, arguments: JSON.stringify(call.arguments) },
    }));
    await sleep(latency.llmFirstTokenMs);
    if (!request.stream) {
      const message = { role: 'assistant', content: null, refusal: null, tool_calls: calls };
      exchange.sendJson(200, {
        ...head,
        object: 'chat.completion',
        choices: [{ index: 0, message, logprobs: null, finish_reason: 'tool_calls' }],
        system_fingerprint: SYSTEM_FINGERPRINT,
      });
      return;
    }
    const chunk = (delta: object, finishReason: string | null) =>
      `data: ${JSON.stringify({
        ...head,
        object: 'chat.completion.chunk',
        system_fingerprint: SYSTEM_FINGERPRINT,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      })}\n\n`;
    exchange.startStream('text/event-stream; charset=utf-8');
    await exchange.write(chunk({ role: 'assistant', content: null }, null));
    for (const call of calls) {
      const { arguments: args, name } = call.function;
      const half = Math.ceil(args.length / 2);
      const start = {
        index: call.index,
        id: call.id,
        type: 'function',
        function: { name, arguments: '' },
      };
      await exchange.write(chunk({ tool_calls: [start] }, null));
      for (const piece of [args.slice(0, half), args.slice(half)]) {
        await exchange.write(
          chunk({ tool_calls: [{ index: call.index, function: { arguments: piece } }] }, null),
        );
      }
    }
    await exchange.write(chunk({}, 'tool_calls'));
    await exchange.write('data: [DONE]\n\n');
    exchange.end();
  }

  async function completeChat(exchange: Exchange, body: unknown): Promise<void> {
    const request = parseWith(chatRequestSchema, body);
    const answer = reply(request.messages, request);
    if (typeof answer !== 'string') return callTools(exchange, request, answer);
    const text = answer;
    const deltas = text.match(/\s*\S+/g) ?? [];
    const id = `chatcmpl-${randomUUID().replaceAll('-', '')}`;
    const head = { id, created: Math.floor(Date.now() / 1000), model: request.model };
    // About four characters per token, as OpenAI's rule of thumb.
    const promptTokens = Math.ceil(JSON.stringify(request.messages).length / 4);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: deltas.length,
      total_tokens: promptTokens + deltas.length,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
    };
    if (!request.stream) {
      await sleep(latency.llmFirstTokenMs);
      const message = { role: 'assistant', content: text, refusal: null, annotations: [] };
      const choice = { index: 0, message, logprobs: null, finish_reason: 'stop' };
      exchange.sendJson(200, {
        ...head,
        object: 'chat.completion',
        choices: [choice],
        usage,
        system_fingerprint: SYSTEM_FINGERPRINT,
      });
      return;
    }
    const includeUsage = request.stream_options?.include_usage === true;
    const event = (payload: unknown) => `data: ${JSON.stringify(payload)}\n\n`;
    const chunk = (delta: object, finishReason: string | null) =>
      event({
        ...head,
        object: 'chat.completion.chunk',
        system_fingerprint: SYSTEM_FINGERPRINT,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
        ...(includeUsage ? { usage: null } : {}),
      });
    // The role chunk goes out with the first word, so a stream cut after its first write has text.
    const events = deltas.map((delta) => chunk({ content: delta }, null));
    events[0] = chunk({ role: 'assistant', content: '', refusal: null }, null) + (events[0] ?? '');
    exchange.startStream('text/event-stream; charset=utf-8');
    await sleep(latency.llmFirstTokenMs);
    for (const [index, event] of events.entries()) {
      if (index > 0) await sleep(latency.llmTokenIntervalMs);
      if (exchange.closed) return;
      await exchange.write(event);
    }
    await exchange.write(chunk({}, 'stop'));
    if (includeUsage) {
      const usageChunk = { ...head, object: 'chat.completion.chunk', choices: [], usage };
      await exchange.write(event({ ...usageChunk, system_fingerprint: SYSTEM_FINGERPRINT }));
    }
    await exchange.write('data: [DONE]\n\n');
    exchange.end();
  }

  async function synthesize(exchange: Exchange, body: unknown): Promise<void> {
    const request = parseWith(speechRequestSchema, body);
    const format = request.response_format;
    if (format !== 'pcm' && format !== 'wav') {
      throw new HttpError(400, `response_format '${format}' is not supported (pcm, wav)`);
    }
    const [{ samples }] = await Promise.all([
      synthesizeSpeech(request.input, { sampleRate: TTS_SAMPLE_RATE }),
      sleep(latency.ttsFirstByteMs),
    ]);
    const pcm = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
    const audio = format === 'pcm' ? pcm : encodeWav(samples, TTS_SAMPLE_RATE);
    exchange.startStream(format === 'pcm' ? 'audio/pcm' : 'audio/wav');
    for (let offset = 0; offset < audio.length && !exchange.closed; offset += TTS_CHUNK_BYTES) {
      await exchange.write(audio.subarray(offset, offset + TTS_CHUNK_BYTES));
    }
    exchange.end();
  }

  async function transcribe(exchange: Exchange, form: FormData): Promise<void> {
    const file = form.get('file');
    if (!(file instanceof File) || typeof form.get('model') !== 'string') {
      throw new HttpError(400, "'file' and 'model' are required form fields");
    }
    const format = String(form.get('response_format') ?? 'json');
    if (format !== 'json' && format !== 'text' && format !== 'verbose_json') {
      throw new HttpError(400, `response_format '${format}' is not supported`);
    }
    await sleep(latency.sttMs);
    const text = scriptedTranscripts.shift() ?? options.defaultTranscript ?? 'hello';
    const duration = wavDurationSeconds(Buffer.from(await file.arrayBuffer()));
    const usage = { type: 'duration', seconds: Math.ceil(duration) };
    if (format === 'text') {
      exchange.send(200, 'text/plain; charset=utf-8', `${text}\n`);
    } else if (format === 'json') {
      exchange.sendJson(200, { text, usage });
    } else {
      const segment = { id: 0, seek: 0, start: 0, end: duration, text, tokens: [] };
      exchange.sendJson(200, {
        task: 'transcribe',
        language: 'english',
        duration,
        text,
        segments: [{ ...segment, temperature: 0, avg_logprob: 0, no_speech_prob: 0 }],
        usage,
      });
    }
  }

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname.replace(/\/$/, '');
    const route = ROUTES[`${req.method} ${path}`];
    if (!route) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(openAIError(404, `Unknown request URL: ${req.method} ${path}`)));
      return;
    }
    const record: RecordedRequest = {
      route,
      body: undefined,
      headers: redactedHeaders(req),
      receivedAt: Date.now(),
      aborted: false,
    };
    requests.push(record);
    const exchange = new Exchange(res, record);
    try {
      const raw = await readBody(req);
      const form = route === 'transcriptions' ? await parseForm(req, raw) : undefined;
      record.body = form ? describeForm(form) : parseJson(raw);
      if (!/^Bearer\s+\S/.test(req.headers.authorization ?? '')) {
        throw new HttpError(401, "You didn't provide an API key.");
      }
      const fault = faults[route].take();
      if (fault?.kind === 'status') throw new HttpError(fault.status, 'Injected fault');
      if (fault?.kind === 'timeout') return;
      if (fault?.kind === 'drop') exchange.dropAfter(fault.afterMs ?? 0);
      if (route === 'chat') await completeChat(exchange, record.body);
      else if (route === 'speech') await synthesize(exchange, record.body);
      else if (form) await transcribe(exchange, form);
      else exchange.sendJson(200, { object: 'list', data: models.map(modelEntry) });
    } catch (error) {
      if (res.headersSent || res.destroyed) return void res.destroy();
      const status = error instanceof HttpError ? error.status : 500;
      exchange.sendJson(status, openAIError(status, (error as Error).message));
    }
  }

  const server = createServer((req, res) => void handleRequest(req, res));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    chatRequests: () =>
      requests.filter((r) => r.route === 'chat').map((r) => r.body as ChatCompletionRequest),
    setReply: (replyFunction) => {
      reply = replyFunction;
    },
    setLatency: (changes) => {
      latency = { ...latency, ...changes };
    },
    injectFault: (route, fault) => faults[route].inject(fault),
    clearFaults: () => {
      for (const queue of Object.values(faults)) queue.clear();
    },
    scriptTranscriptions: (texts) => {
      scriptedTranscripts.push(...texts);
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function modelEntry(id: string) {
  return { id, object: 'model', created: MODEL_CREATED_S, owned_by: 'system' };
}

function wavDurationSeconds(file: Buffer): number {
  try {
    const wav = decodeWav(file);
    return wav.samples.length / wav.channels / wav.sampleRate;
  } catch {
    return 0;
  }
}
