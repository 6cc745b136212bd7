/**
 * A watchdog around a streaming STT whose connection can die without telling anyone. The Deepgram
 * plugin (1.9) watches its socket in a task it hands to `Promise.all`, which does not wait for
 * it: when the socket drops, the stream keeps taking audio and never answers again, and the
 * framework's retries and fallback never hear of it. So each stream here runs the plugin's stream
 * inside and watches it: when the user's speech (the session's VAD) has waited `stallTimeoutMs`
 * for a result that does not come, the connection is taken for dead, a new one is opened, and the
 * audio not yet transcribed is sent again, so the utterance that was cut off still gets its
 * answer. A stall only reconnects (speech with no words in it looks the same, so it must cost no
 * more); a connection that fails (refused, rejected, broken) fails the attempt, which the
 * framework retries and, after its retries, hands to the fallback STT.
 */
import {
  APIConnectionError,
  type APIConnectOptions,
  type AudioBuffer,
  DEFAULT_API_CONNECT_OPTIONS,
  log,
  stt,
} from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';

/** How often a stream checks for a stall. */
const CHECK_INTERVAL_MS = 100;
/** The longest stretch of untranscribed audio kept to send again after a reconnect. */
const REPLAY_MAX_MS = 15_000;

/**
 * When speech has gone unanswered for too long. Speech waits from the moment the user starts
 * speaking; every result shows the connection alive and starts the wait again; the wait is over
 * once the recognizer has closed the utterance (a final transcript or end of speech) and the user
 * is silent. A dead connection sends nothing more, so its wait runs out. Times in ms.
 */
export class StallDetector {
  #speaking = false;
  #waitingSince: number | undefined;
  /** The last result closed an utterance: the recognizer owes nothing for speech so far. */
  #closed = true;

  constructor(private readonly timeoutMs: number) {}

  userSpeaking(speaking: boolean, now: number): void {
    this.#speaking = speaking;
    if (speaking) this.#waitingSince ??= now;
    else if (this.#closed) this.#waitingSince = undefined;
  }

  /** A result that leaves the utterance open (interim transcript, start of speech). */
  heard(now: number): void {
    this.#closed = false;
    this.#waitingSince = now;
  }

  /** The utterance was closed, or the connection is new and owes nothing yet. */
  answered(now: number): void {
    this.#closed = true;
    this.#waitingSince = this.#speaking ? now : undefined;
  }

  stalled(now: number): boolean {
    return this.#waitingSince !== undefined && now - this.#waitingSince >= this.timeoutMs;
  }
}

export class StallGuardedSTT extends stt.STT {
  label: string;
  #userSpeaking = false;
  readonly #streams = new Set<GuardedSpeechStream>();

  constructor(
    readonly inner: stt.STT,
    readonly stallTimeoutMs: number,
  ) {
    super(inner.capabilities);
    this.label = inner.label;
    // Each attempt listens for its connection's failure; an 'error' with no listener would throw.
    inner.on('error', () => {});
  }

  override get model(): string {
    return this.inner.model;
  }

  override get provider(): string {
    return this.inner.provider;
  }

  /** The user started or stopped speaking (the session's VAD). */
  userSpeaking(speaking: boolean): void {
    this.#userSpeaking = speaking;
    for (const stream of this.#streams) stream.userSpeaking(speaking);
  }

  protected _recognize(frame: AudioBuffer, abortSignal?: AbortSignal): Promise<stt.SpeechEvent> {
    return this.inner.recognize(frame, abortSignal);
  }

  override _updateSessionKeyterms(keyterms: string[]): void {
    this.inner._updateSessionKeyterms(keyterms);
  }

  override _pushConversationItem(event: Parameters<stt.STT['_pushConversationItem']>[0]): void {
    this.inner._pushConversationItem(event);
  }

  stream(options?: { connOptions?: APIConnectOptions }): stt.SpeechStream {
    const stream = new GuardedSpeechStream(this, options?.connOptions);
    this.#streams.add(stream);
    stream.userSpeaking(this.#userSpeaking);
    stream.onEnd(() => this.#streams.delete(stream));
    return stream;
  }

  override async close(): Promise<void> {
    await this.inner.close();
  }
}

class GuardedSpeechStream extends stt.SpeechStream {
  label: string;
  readonly #connOptions: APIConnectOptions;
  readonly #detector: StallDetector;
  /** Audio since the last final transcript, with when each frame came. */
  #untranscribed: { frame: AudioFrame; at: number; ms: number }[] = [];
  #untranscribedMs = 0;
  #connection: stt.SpeechStream | undefined;
  #forwarding: Promise<void> | undefined;
  #inputEnded = false;
  /** The stream's time offset (s) at its first attempt, and when that was: replayed audio is
   * placed on the same timeline. */
  #origin: { offsetS: number; at: number } | undefined;
  #onEnd: (() => void) | undefined;

  constructor(
    private readonly guard: StallGuardedSTT,
    connOptions: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
  ) {
    super(guard, undefined, connOptions);
    this.label = `${guard.inner.label}.Guarded`;
    this.#connOptions = connOptions;
    this.#detector = new StallDetector(guard.stallTimeoutMs);
  }

  userSpeaking(speaking: boolean): void {
    this.#detector.userSpeaking(speaking, Date.now());
  }

  onEnd(callback: () => void): void {
    this.#onEnd = callback;
  }

  override close(): void {
    super.close();
    this.#connection?.close();
    this.#onEnd?.();
  }

  /** One attempt: the framework calls it again when it throws a retryable failure. */
  protected async run(): Promise<void> {
    this.#origin ??= { offsetS: this.startTimeOffset, at: Date.now() };
    this.#forwarding ??= this.#forwardInput();
    while ((await this.#listen()) === 'stalled') {
      log().warn(
        { stt: this.guard.label, stallTimeoutMs: this.guard.stallTimeoutMs },
        'speech recognition went silent while the user spoke: reconnecting',
      );
    }
  }

  /** One connection, until the input ends, it stalls, or it fails (thrown). */
  async #listen(): Promise<'ended' | 'stalled'> {
    const origin = this.#origin ?? { offsetS: 0, at: Date.now() };
    const connection = this.guard.inner.stream({
      connOptions: { ...this.#connOptions, maxRetry: 0 },
    });
    let failure: unknown;
    const onError = (event: { error: unknown }) => {
      failure = event.error;
    };
    this.guard.inner.on('error', onError);
    const replayFrom = this.#untranscribed[0]?.at ?? Date.now();
    connection.startTimeOffset = Math.max(0, origin.offsetS + (replayFrom - origin.at) / 1000);
    for (const { frame } of this.#untranscribed) connection.pushFrame(frame);
    if (this.#inputEnded) connection.endInput();
    this.#connection = connection;
    this.#detector.answered(Date.now());

    let stalled = false;
    const watch = setInterval(() => {
      if (!this.#detector.stalled(Date.now())) return;
      stalled = true;
      connection.close();
    }, CHECK_INTERVAL_MS);
    try {
      for await (const event of connection) {
        this.#observe(event);
        this.queue.put(event);
      }
    } finally {
      clearInterval(watch);
      this.guard.inner.off('error', onError);
      this.#connection = undefined;
      connection.close();
    }
    if (stalled) return 'stalled';
    if (this.#inputEnded || this.abortSignal.aborted) return 'ended';
    throw failure ?? new APIConnectionError({ message: 'speech recognition ended unexpectedly' });
  }

  #observe(event: stt.SpeechEvent): void {
    const now = Date.now();
    switch (event.type) {
      case stt.SpeechEventType.FINAL_TRANSCRIPT:
        this.#clearUntranscribed();
        this.#detector.answered(now);
        break;
      case stt.SpeechEventType.END_OF_SPEECH:
        this.#detector.answered(now);
        break;
      case stt.SpeechEventType.RECOGNITION_USAGE:
        // Counted on the sending side: no sign of life from the connection.
        break;
      default:
        this.#detector.heard(now);
    }
  }

  /** Hands the input to the current connection for the stream's whole life, across attempts. */
  async #forwardInput(): Promise<void> {
    for await (const item of this.input) {
      if (typeof item === 'symbol') {
        ignoreClosed(() => this.#connection?.flush());
        continue;
      }
      this.#keepUntranscribed(item);
      ignoreClosed(() => this.#connection?.pushFrame(item));
    }
    this.#inputEnded = true;
    ignoreClosed(() => this.#connection?.endInput());
  }

  #keepUntranscribed(frame: AudioFrame): void {
    const ms = (frame.samplesPerChannel / frame.sampleRate) * 1000;
    this.#untranscribed.push({ frame, at: Date.now(), ms });
    this.#untranscribedMs += ms;
    while (this.#untranscribedMs > REPLAY_MAX_MS) {
      this.#untranscribedMs -= this.#untranscribed.shift()?.ms ?? this.#untranscribedMs;
    }
  }

  #clearUntranscribed(): void {
    this.#untranscribed = [];
    this.#untranscribedMs = 0;
  }
}

/** A connection being replaced refuses input; the frames are kept for the next one. */
function ignoreClosed(action: () => void): void {
  try {
    action();
  } catch {}
}
