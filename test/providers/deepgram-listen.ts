// One Deepgram live transcription session: an energy detector over the received linear16
// audio timeline (all channels mixed, times in audio ms, not wall clock) finds utterances and answers them with Deepgram live messages (SpeechStarted,
// interim and final Results, UtteranceEnd, Metadata) carrying scripted transcripts.
import { createHash, randomUUID } from 'node:crypto';
import type { RawData, WebSocket } from 'ws';
import { rms } from '../support/speech.js';
import type { RecordedConnection, RecordedUtterance } from './deepgram.js';

export interface ListenConfig {
  model: string;
  sampleRate: number;
  channels: number;
  endpointingMs: number;
  utteranceEndMs?: number;
  interimResults: boolean;
  vadEvents: boolean;
  punctuate: boolean;
}

interface ActiveUtterance {
  startMs: number;
  lastVoiceMs: number;
  voicedMs: number;
  lastInterimMs: number;
  interimCount: number;
  /** Set once the utterance is long enough to count as speech. */
  record?: RecordedUtterance;
  finalSent: boolean;
  utteranceEndDue: boolean;
  continuesPrevious: boolean;
}

const WINDOW_MS = 10;
const SPEECH_RMS = 0.004; // the plugin's own energy filter threshold
const MIN_SPEECH_MS = 150;
const INTERIM_INTERVAL_MS = 250;
/**
 * Speech resuming this soon (wall clock) after the last voiced audio continues the same scripted
 * sentence: a stall in the audio path splits one sentence into two fragments, and only the first
 * carries the scripted words (an empty transcript is valid Deepgram output, ignored by clients).
 */
const CONTINUATION_MS = 2500;
/** …unless the audio itself held this much silence in between: then it is a new sentence (a
 * stall delays audio, it does not add silent audio). */
const CONTINUATION_MAX_SILENCE_MS = 1000;

/** One live transcription: detects utterances in the audio timeline and answers them. */
export class ListenSession {
  readonly #requestId = randomUUID();
  readonly #audioHash = createHash('sha256');
  readonly #windowBytes: number;
  readonly #windowMs: number;
  readonly #pendingFinals = new Map<NodeJS.Timeout, () => void>();
  #pendingAudio = Buffer.alloc(0);
  #audioMs = 0;
  #utterance: ActiveUtterance | undefined;
  #lastEnded: ActiveUtterance | undefined;
  #lastVoicedAt = 0;
  /** Audio time of the last voiced window that carried words. */
  #lastVoicedAudioMs = 0;
  #dropAfterSpeechMs: number | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly record: RecordedConnection,
    private readonly config: ListenConfig,
    private readonly deps: {
      nextTranscript: () => string;
      finalDelayMs: () => number;
      dropAfterSpeechMs: number | undefined;
    },
  ) {
    this.#dropAfterSpeechMs = deps.dropAfterSpeechMs;
    const samplesPerWindow = Math.max(1, Math.round((config.sampleRate * WINDOW_MS) / 1000));
    this.#windowBytes = samplesPerWindow * config.channels * 2;
    this.#windowMs = (samplesPerWindow / config.sampleRate) * 1000;
  }

  receive(data: RawData, isBinary: boolean): void {
    // A dropped socket can still deliver messages it had already parsed.
    if (this.ws.readyState !== this.ws.OPEN) return;
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) {
      this.#receiveAudio(bytes);
      return;
    }
    const text = bytes.toString('utf8');
    let type = text;
    try {
      type = String(JSON.parse(text).type);
    } catch {}
    this.record.controlMessages.push(type);
    if (type === 'Finalize') this.#finalize();
    if (type === 'CloseStream') this.#closeStream();
  }

  /** Terminates the socket once the current (or next) utterance has `ms` of voiced audio. */
  dropAfterSpeech(ms: number): void {
    this.#dropAfterSpeechMs = ms;
  }

  stop(): void {
    this.record.closedAt = Date.now();
    for (const timer of this.#pendingFinals.keys()) clearTimeout(timer);
    this.#pendingFinals.clear();
  }

  #receiveAudio(bytes: Buffer): void {
    this.record.receivedAudioBytes += bytes.length;
    this.#audioHash.update(bytes);
    this.#pendingAudio = Buffer.concat([this.#pendingAudio, bytes]);
    let offset = 0;
    for (; offset + this.#windowBytes <= this.#pendingAudio.length; offset += this.#windowBytes) {
      // Copied so the Int16Array is aligned.
      const window = new Uint8Array(
        this.#pendingAudio.subarray(offset, offset + this.#windowBytes),
      );
      this.#audioMs += this.#windowMs;
      this.#analyzeWindow(rms(new Int16Array(window.buffer)) > SPEECH_RMS);
      if (this.ws.readyState !== this.ws.OPEN) return;
    }
    this.#pendingAudio = this.#pendingAudio.subarray(offset);
  }

  #analyzeWindow(voiced: boolean): void {
    const audioMs = this.#audioMs;
    const utterance = this.#utterance;
    if (!voiced) {
      if (utterance && audioMs - utterance.lastVoiceMs >= this.config.endpointingMs) {
        this.#endUtterance(false);
      }
      const ended = this.#lastEnded;
      const utteranceEndMs = this.config.utteranceEndMs;
      if (!this.#utterance && ended && utteranceEndMs !== undefined) {
        if (audioMs - ended.lastVoiceMs >= utteranceEndMs) {
          this.#lastEnded = undefined;
          if (ended.finalSent) this.#sendUtteranceEnd(ended);
          else ended.utteranceEndDue = true;
        }
      }
      return;
    }
    const active = utterance ?? this.#startUtterance(audioMs - this.#windowMs);
    active.voicedMs += this.#windowMs;
    active.lastVoiceMs = audioMs;
    if (active.record) active.record.speechEndedAt = Date.now();
    const dropAfterMs = this.#dropAfterSpeechMs;
    if (dropAfterMs !== undefined && active.voicedMs >= dropAfterMs) {
      this.ws.terminate();
      return;
    }
    if (!active.record && active.voicedMs >= MIN_SPEECH_MS) {
      const confirmedAt = Date.now();
      const transcript = active.continuesPrevious ? '' : this.deps.nextTranscript();
      active.record = { transcript, speechStartedAt: confirmedAt, speechEndedAt: confirmedAt };
      this.record.utterances.push(active.record);
      if (this.config.vadEvents) {
        this.#send({ type: 'SpeechStarted', channel: [0], timestamp: seconds(active.startMs) });
      }
    }
    // Only a fragment that carried words can be continued.
    if (active.record) {
      this.#lastVoicedAt = Date.now();
      this.#lastVoicedAudioMs = audioMs;
    }
    if (active.record && this.config.interimResults) {
      if (audioMs - active.lastInterimMs >= INTERIM_INTERVAL_MS) {
        active.lastInterimMs = audioMs;
        active.interimCount += 1;
        const tokens = transcriptTokens(active.record.transcript).slice(0, active.interimCount);
        this.#sendResults(tokens, active.startMs, audioMs, { isFinal: false, fromFinalize: false });
      }
    }
  }

  #startUtterance(startMs: number): ActiveUtterance {
    this.#lastEnded = undefined;
    this.#utterance = {
      startMs,
      lastVoiceMs: startMs,
      voicedMs: 0,
      lastInterimMs: startMs,
      interimCount: 0,
      finalSent: false,
      utteranceEndDue: false,
      continuesPrevious:
        this.#lastVoicedAt > 0 &&
        Date.now() - this.#lastVoicedAt < CONTINUATION_MS &&
        startMs - this.#lastVoicedAudioMs < CONTINUATION_MAX_SILENCE_MS,
    };
    return this.#utterance;
  }

  #endUtterance(fromFinalize: boolean): void {
    const utterance = this.#utterance;
    this.#utterance = undefined;
    const record = utterance?.record;
    if (!utterance || !record) return;
    this.#lastEnded = utterance;
    const sendFinal = () => {
      const tokens = transcriptTokens(record.transcript);
      const flags = { isFinal: true, fromFinalize };
      this.#sendResults(tokens, utterance.startMs, utterance.lastVoiceMs, flags);
      record.finalSentAt = Date.now();
      utterance.finalSent = true;
      if (utterance.utteranceEndDue) this.#sendUtteranceEnd(utterance);
    };
    const timer = setTimeout(() => {
      this.#pendingFinals.delete(timer);
      sendFinal();
    }, this.deps.finalDelayMs());
    this.#pendingFinals.set(timer, sendFinal);
  }

  #finalize(): void {
    if (this.#utterance?.record) this.#endUtterance(true);
    else this.#sendResults([], this.#audioMs, this.#audioMs, { isFinal: true, fromFinalize: true });
  }

  #closeStream(): void {
    this.#endUtterance(false);
    for (const [timer, sendFinal] of this.#pendingFinals) {
      clearTimeout(timer);
      sendFinal();
    }
    this.#pendingFinals.clear();
    this.#send({
      type: 'Metadata',
      transaction_key: 'deprecated',
      request_id: this.#requestId,
      sha256: this.#audioHash.digest('hex'),
      created: new Date(this.record.connectedAt).toISOString(),
      duration: seconds(this.#audioMs),
      channels: this.config.channels,
    });
    this.ws.close(1000);
  }

  #sendUtteranceEnd(utterance: ActiveUtterance): void {
    this.#send({
      type: 'UtteranceEnd',
      channel: [0, this.config.channels],
      last_word_end: seconds(utterance.lastVoiceMs),
    });
  }

  #sendResults(
    tokens: string[],
    startMs: number,
    endMs: number,
    { isFinal, fromFinalize }: { isFinal: boolean; fromFinalize: boolean },
  ): void {
    const wordMs = (endMs - startMs) / Math.max(tokens.length, 1);
    const words = tokens.map((token, index) => ({
      word: token.toLowerCase().replace(/[^\p{L}\p{N}']/gu, ''),
      start: seconds(startMs + index * wordMs),
      end: seconds(startMs + (index + 1) * wordMs),
      confidence: 0.99,
      punctuated_word: token,
    }));
    const transcript = this.config.punctuate
      ? tokens.join(' ')
      : words.map((word) => word.word).join(' ');
    this.#send({
      type: 'Results',
      channel_index: [0, this.config.channels],
      duration: seconds(endMs - startMs),
      start: seconds(startMs),
      is_final: isFinal,
      speech_final: isFinal,
      from_finalize: fromFinalize,
      channel: { alternatives: [{ transcript, confidence: 0.99, words }] },
      metadata: {
        request_id: this.#requestId,
        model_info: { name: this.config.model, version: 'fake', arch: this.config.model },
        model_uuid: this.#requestId,
      },
    });
  }

  #send(message: object): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(message));
  }
}

function transcriptTokens(transcript: string): string[] {
  return transcript.split(/\s+/).filter((token) => token !== '');
}

function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}
