/**
 * The transport baseline for voice-to-voice: one-way latency of audio between two rtc-node
 * participants through the same livekit-server, measured as the time from a tone burst leaving
 * one participant's microphone to its first loud frame at the other. A voice turn crosses this
 * path twice (caller → agent, agent → caller), and no agent code runs on it.
 */
import {
  AudioFrame,
  AudioSource,
  AudioStream,
  LocalAudioTrack,
  Room,
  RoomEvent,
  TrackKind,
  TrackPublishOptions,
  TrackSource,
} from '@livekit/rtc-node';
import { AccessToken, RoomServiceClient } from 'livekit-server-sdk';
import { DEV_LIVEKIT_SECRET } from '../common/config.js';
import { SPEECH_RMS } from '../test/support/caller.js';
import { rms } from '../test/support/speech.js';
import { type Summary, summarize } from './report.js';

const SAMPLE_RATE = 48_000;
const FRAME_SAMPLES = 480;
/** Like the agent's audio output: a 200 ms send queue, and nothing sent between bursts. */
const QUEUE_MS = 200;
const BURST_FRAMES = 20;
const GAP_MS = 400;

async function join(livekitUrl: string, roomName: string, identity: string): Promise<Room> {
  const token = new AccessToken('devkey', DEV_LIVEKIT_SECRET, { identity });
  token.addGrant({ room: roomName, roomJoin: true, canPublish: true, canSubscribe: true });
  const room = new Room();
  await room.connect(livekitUrl, await token.toJwt(), { autoSubscribe: true, dynacast: false });
  return room;
}

export async function measureTransport(livekitUrl: string, bursts: number): Promise<Summary> {
  const roomName = `transport-baseline-${process.pid}`;
  const rooms = new RoomServiceClient(
    livekitUrl.replace(/^ws/, 'http'),
    'devkey',
    DEV_LIVEKIT_SECRET,
  );
  await rooms.createRoom({ name: roomName });
  const listener = await join(livekitUrl, roomName, 'listener');
  const speaker = await join(livekitUrl, roomName, 'speaker');
  const arrivals: number[] = [];
  let listening = true;
  listener.on(RoomEvent.TrackSubscribed, async (track) => {
    if (track.kind !== TrackKind.KIND_AUDIO) return;
    let inBurst = false;
    for await (const frame of new AudioStream(track, SAMPLE_RATE, 1)) {
      if (!listening) break;
      const loud = rms(frame.data) > SPEECH_RMS;
      if (loud && !inBurst) arrivals.push(Date.now());
      inBurst = loud;
    }
  });
  const source = new AudioSource(SAMPLE_RATE, 1, QUEUE_MS);
  const track = LocalAudioTrack.createAudioTrack('microphone', source);
  await speaker.localParticipant?.publishTrack(
    track,
    new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE }),
  );
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const sent: number[] = [];
  const tone = new Int16Array(FRAME_SAMPLES);
  for (let burst = 0; burst < bursts; burst++) {
    await new Promise((resolve) => setTimeout(resolve, GAP_MS));
    sent.push(Date.now() + source.queuedDuration);
    for (let frame = 0; frame < BURST_FRAMES; frame++) {
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        tone[i] = Math.round(
          8000 * Math.sin((2 * Math.PI * 440 * (frame * FRAME_SAMPLES + i)) / SAMPLE_RATE),
        );
      }
      await source.captureFrame(new AudioFrame(tone, SAMPLE_RATE, 1, FRAME_SAMPLES));
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  listening = false;
  await speaker.disconnect();
  await listener.disconnect();
  await source.close();
  await rooms.deleteRoom(roomName).catch(() => {});
  if (arrivals.length !== sent.length) {
    throw new Error(`transport baseline: sent ${sent.length} bursts, heard ${arrivals.length}`);
  }
  return summarize(arrivals.map((at, index) => at - (sent[index] as number)));
}
