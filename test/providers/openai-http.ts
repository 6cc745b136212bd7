// HTTP plumbing of the fake OpenAI server: OpenAI-shaped errors, body parsing, and one
// request/response exchange that applies drop faults and records how the response ended.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { RecordedRequest } from './openai.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function openAIError(status: number, message: string) {
  const [type, code] =
    status === 401
      ? ['invalid_request_error', 'invalid_api_key']
      : status === 429
        ? ['requests', 'rate_limit_exceeded']
        : status >= 500
          ? ['server_error', null]
          : ['invalid_request_error', null];
  return { error: { message, type, param: null, code } };
}

/** One request/response pair: applies a drop fault and records how the response ended. */
export class Exchange {
  droppedByServer = false;
  #dropAfterMs: number | undefined;

  constructor(
    readonly res: ServerResponse,
    readonly record: RecordedRequest,
  ) {
    res.setHeader('x-request-id', `req_${randomUUID().replaceAll('-', '')}`);
    res.on('finish', () => {
      record.completedAt = Date.now();
    });
    res.on('close', () => {
      if (!res.writableFinished && !this.droppedByServer) record.aborted = true;
    });
  }

  get closed(): boolean {
    return this.res.destroyed;
  }

  dropAfter(ms: number): void {
    this.#dropAfterMs = ms;
  }

  sendJson(status: number, body: unknown): void {
    this.send(status, 'application/json', JSON.stringify(body));
  }

  send(status: number, contentType: string, body: string): void {
    this.record.status = status;
    if (this.#scheduleDrop()) return;
    this.res.writeHead(status, { 'content-type': contentType });
    this.res.end(body);
  }

  startStream(contentType: string): void {
    this.record.status = 200;
    this.res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-cache' });
  }

  async write(chunk: string | Buffer): Promise<void> {
    if (this.closed) return;
    this.res.write(chunk);
    this.#scheduleDrop();
    // Yielding lets a client's abort and a scheduled drop land between chunks.
    await sleep(0);
  }

  end(): void {
    if (this.#dropAfterMs === undefined && !this.closed) this.res.end();
  }

  #scheduleDrop(): boolean {
    const afterMs = this.#dropAfterMs;
    if (afterMs === undefined || this.droppedByServer) return afterMs !== undefined;
    this.droppedByServer = true;
    setTimeout(() => this.res.destroy(), afterMs);
    return true;
  }
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'We could not parse the JSON body of your request.');
  }
}

export async function parseForm(req: IncomingMessage, raw: Buffer): Promise<FormData> {
  const headers = { 'content-type': req.headers['content-type'] ?? '' };
  try {
    return await new Response(new Uint8Array(raw), { headers }).formData();
  } catch {
    throw new HttpError(400, 'Expected a multipart/form-data body');
  }
}

export function describeForm(form: FormData): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [name, value] of form.entries()) {
    fields[name] =
      value instanceof File ? { filename: value.name, size: value.size, type: value.type } : value;
  }
  return fields;
}

export function redactedHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  if (headers.authorization) headers.authorization = '[redacted]';
  return headers;
}

export function parseWith<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new HttpError(400, z.prettifyError(parsed.error));
  return parsed.data;
}
