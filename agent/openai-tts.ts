/**
 * OpenAI-compatible speech synthesis (`POST /audio/speech`, 24 kHz PCM) that the framework can
 * retry and fall back from. The OpenAI plugin's TTS (1.9) sends its request once, when the stream
 * is made, so a retry awaits the same failed answer; it throws the OpenAI client's own errors,
 * which the framework neither retries nor falls back from; it ignores the timeout; and it waits
 * for the whole answer before the first frame. Here each attempt sends its own request, frames
 * go out as the answer arrives, and failures are the framework's `APIError`s: retryable until
 * the first frame has gone out, since a retry then would say the start of the sentence twice.
 */
import {
  APIConnectionError,
  type APIConnectOptions,
  APIStatusError,
  APITimeoutError,
  AudioByteStream,
  DEFAULT_API_CONNECT_OPTIONS,
  shortuuid,
  tts,
} from '@livekit/agents';
import OpenAI from 'openai';

const SAMPLE_RATE = 24_000;
const CHANNELS = 1;

export interface OpenAITTSOptions {
  baseURL?: string;
  apiKey: string;
  model: string;
  voice: string;
}

/** Audio had already gone out when the answer broke off: no retry or fallback can mend it. */
export class SpeechCutOffError extends APIConnectionError {
  constructor(cause: unknown) {
    super({
      message: `speech broke off after its first audio (${errorName(cause)})`,
      options: { retryable: false },
    });
  }
}

export class OpenAITTS extends tts.TTS {
  label = 'openai.TTS';
  readonly #client: OpenAI;

  constructor(private readonly options: OpenAITTSOptions) {
    super(SAMPLE_RATE, CHANNELS, { streaming: false });
    this.#client = new OpenAI({ baseURL: options.baseURL, apiKey: options.apiKey, maxRetries: 0 });
  }

  override get model(): string {
    return this.options.model;
  }

  override get provider(): string {
    return new URL(this.#client.baseURL).host;
  }

  synthesize(
    text: string,
    connOptions: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    abortSignal?: AbortSignal,
  ): tts.ChunkedStream {
    return new SpeechRequest(
      this,
      text,
      (signal) =>
        this.#client.audio.speech.create(
          {
            input: text,
            model: this.options.model,
            voice: this.options.voice,
            response_format: 'pcm',
          },
          { signal, timeout: connOptions.timeoutMs },
        ),
      connOptions,
      abortSignal,
    );
  }

  stream(): tts.SynthesizeStream {
    throw new Error('OpenAI speech is not streamed: the session wraps it in a sentence adapter');
  }
}

class SpeechRequest extends tts.ChunkedStream {
  label = 'openai.ChunkedStream';

  constructor(
    speech: OpenAITTS,
    text: string,
    private readonly request: (signal: AbortSignal) => Promise<Response>,
    connOptions: APIConnectOptions,
    abortSignal?: AbortSignal,
  ) {
    super(text, speech, connOptions, abortSignal);
  }

  /** One attempt: the framework calls it again for a retryable failure. */
  protected async run(): Promise<void> {
    const requestId = shortuuid();
    const bytes = new AudioByteStream(SAMPLE_RATE, CHANNELS);
    let sent = false;
    // The last frame is held back so it can be marked final.
    let pending: tts.SynthesizedAudio | undefined;
    const send = (frame: tts.SynthesizedAudio['frame']) => {
      if (pending) this.queue.put(pending);
      pending = { requestId, segmentId: requestId, frame, final: false };
      sent = true;
    };
    try {
      const response = await this.request(this.abortSignal);
      if (!response.body) throw new APIConnectionError({ message: 'speech answer has no body' });
      for await (const chunk of response.body) {
        for (const frame of bytes.write(chunk)) send(frame);
      }
      for (const frame of bytes.flush()) send(frame);
      if (pending) this.queue.put({ ...pending, final: true });
    } catch (error) {
      if (this.abortSignal.aborted) return;
      if (pending) this.queue.put(pending);
      throw sent ? new SpeechCutOffError(error) : toProviderError(error);
    }
  }
}

/** The OpenAI client's errors as the framework's: status errors keep their status. */
function toProviderError(error: unknown): unknown {
  if (error instanceof APIConnectionError || error instanceof APIStatusError) return error;
  if (error instanceof OpenAI.APIConnectionTimeoutError) return new APITimeoutError({});
  if (error instanceof OpenAI.APIError && error.status !== undefined) {
    return new APIStatusError({
      message: error.message,
      options: { statusCode: error.status, requestId: error.requestID ?? null },
    });
  }
  return new APIConnectionError({ message: `speech request failed (${errorName(error)})` });
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
