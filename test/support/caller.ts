/**
 * A scripted caller: a real `@livekit/rtc-node` participant that gets its token from the API,
 * publishes a microphone fed with espeak-ng speech (and silence between utterances, like a real
 * microphone), and listens to the agent: its audio, measured frame by frame, and its turn state.
 */
import {
  AudioFrame,
  AudioSource,
  AudioStream,
  LocalAudioTrack,
  type Participant,
  ParticipantKind,
  type RemoteParticipant,
  type RemoteTrack,
  Room,
  RoomEvent,
  TrackKind,
  TrackPublishOptions,
  TrackSource,
} from '@livekit/rtc-node';
import {
  type CreateSessionRequest,
  type CreateSessionResponse,
  TURN_STATE_ATTRIBUTE,
} from '../../common/protocol.js';
import { rms, synthesizeSpeech } from './speech.js';

const SAMPLE_RATE = 48_000;
const FRAME_MS = 10;
const FRAME_SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000;
/** A small send queue makes `captureFrame` pace the pump in real time, as a microphone would. */
const SOURCE_QUEUE_MS = 60;
/** RMS (fraction of full scale, about -40 dBFS) above which a frame is agent speech. */
export const SPEECH_RMS = 0.01;

export interface TimedValue<T> {
  value: T;
  at: number;
}

export type CallerSession = Pick<
  CreateSessionResponse,
  'sessionId' | 'livekitUrl' | 'participantToken' | 'sessionToken' | 'eventsUrl'
>;

export class ScriptedCaller {
  readonly turnStates: TimedValue<string>[] = [];
  /** Arrival time of every received agent frame louder than SPEECH_RMS. */
  readonly agentSpeechFrames: number[] = [];
  #queue: Int16Array[] = [];
  #closed = false;
  #pump: Promise<void> = Promise.resolve();
  #waiters = new Set<() => void>();

  private constructor(
    readonly session: CallerSession,
    readonly room: Room,
    private readonly source: AudioSource,
  ) {}

  static async join(apiUrl: string, body: CreateSessionRequest = {}): Promise<ScriptedCaller> {
    const response = await fetch(`${apiUrl}/api/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status !== 201) {
      throw new Error(`POST /api/sessions answered ${response.status}: ${await response.text()}`);
    }
    return ScriptedCaller.connect((await response.json()) as CreateSessionResponse);
  }

  /** Joins the call of a session the test already has the tokens of. */
  static async connect(session: CallerSession): Promise<ScriptedCaller> {
    const room = new Room();
    const source = new AudioSource(SAMPLE_RATE, 1, SOURCE_QUEUE_MS);
    const caller = new ScriptedCaller(session, room, source);
    room.on(RoomEvent.TrackSubscribed, (track, _publication, participant) =>
      caller.#listenToAgent(track, participant),
    );
    // The agent may join with its state already set, or set it later.
    room.on(RoomEvent.ParticipantConnected, (participant) =>
      caller.#recordTurnState(participant, participant.attributes),
    );
    room.on(RoomEvent.ParticipantAttributesChanged, (changed, participant) =>
      caller.#recordTurnState(participant, changed),
    );
    await room.connect(session.livekitUrl, session.participantToken, {
      autoSubscribe: true,
      dynacast: false,
    });
    const track = LocalAudioTrack.createAudioTrack('microphone', source);
    await room.localParticipant?.publishTrack(
      track,
      new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE }),
    );
    caller.#pump = caller.#runMicrophone();
    return caller;
  }

  /** Speaks `text`; resolves when the last sample has left the microphone, with that time. */
  async say(text: string): Promise<number> {
    const { samples } = await synthesizeSpeech(text, { sampleRate: SAMPLE_RATE });
    return this.play(samples);
  }

  /**
   * Plays `samples` into the microphone; resolves once they have all been sent, with the time
   * the last voiced frame left (the end of speech, not of the recording's trailing silence).
   */
  async play(samples: Int16Array): Promise<number> {
    let silentTailFrames = 0;
    for (let offset = 0; offset < samples.length; offset += FRAME_SAMPLES) {
      const frame = new Int16Array(FRAME_SAMPLES);
      frame.set(samples.subarray(offset, offset + FRAME_SAMPLES));
      this.#queue.push(frame);
      silentTailFrames = rms(frame) > SPEECH_RMS ? 0 : silentTailFrames + 1;
    }
    await this.#until(() => this.#queue.length === 0);
    return Date.now() + this.source.queuedDuration - silentTailFrames * FRAME_MS;
  }

  /** First agent speech frame received after `after`. */
  async waitForAgentSpeech(after: number, timeoutMs = 20_000): Promise<number> {
    const found = () => this.agentSpeechFrames.find((at) => at > after);
    await this.#until(() => found() !== undefined, timeoutMs, `agent speech after ${after}`);
    return found() as number;
  }

  /** Resolves once the agent has been silent for `quietMs`, with the time its speech stopped. */
  async waitForAgentSilence(quietMs: number, timeoutMs = 30_000): Promise<number> {
    const lastSpeech = () => this.agentSpeechFrames.at(-1) ?? 0;
    await this.#until(() => Date.now() - lastSpeech() >= quietMs, timeoutMs, 'agent silence', 50);
    return lastSpeech();
  }

  async waitForTurnState(state: string, after: number, timeoutMs = 20_000): Promise<number> {
    const found = () => this.turnStates.find((s) => s.value === state && s.at > after);
    await this.#until(() => found() !== undefined, timeoutMs, `turn state ${state}`);
    return (found() as TimedValue<string>).at;
  }

  async leave(): Promise<void> {
    this.#closed = true;
    await this.#pump;
    await this.room.disconnect();
    await this.source.close();
  }

  async #runMicrophone(): Promise<void> {
    const silence = new Int16Array(FRAME_SAMPLES);
    while (!this.#closed) {
      const samples = this.#queue.shift() ?? silence;
      await this.source.captureFrame(new AudioFrame(samples, SAMPLE_RATE, 1, FRAME_SAMPLES));
      this.#notify();
    }
  }

  async #listenToAgent(track: RemoteTrack, participant: RemoteParticipant): Promise<void> {
    if (participant.kind !== ParticipantKind.AGENT || track.kind !== TrackKind.KIND_AUDIO) return;
    for await (const frame of new AudioStream(track, SAMPLE_RATE, 1)) {
      if (this.#closed) break;
      if (rms(frame.data) <= SPEECH_RMS) continue;
      this.agentSpeechFrames.push(Date.now());
      this.#notify();
    }
  }

  #recordTurnState(participant: Participant, attributes: Record<string, string>): void {
    const state = attributes[TURN_STATE_ATTRIBUTE];
    if (participant.kind !== ParticipantKind.AGENT || !state) return;
    this.turnStates.push({ value: state, at: Date.now() });
    this.#notify();
  }

  #notify(): void {
    for (const wake of this.#waiters) wake();
  }

  /** Waits until `condition` holds, re-checking on every event and every `pollMs`. */
  async #until(condition: () => boolean, timeoutMs = 60_000, what = 'condition', pollMs = 100) {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline)
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, pollMs);
        this.#waiters.add(wake);
      });
    }
  }
}
