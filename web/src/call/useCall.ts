/**
 * One voice call: microphone first, then the session (a new one, or the call of the session a
 * chat opened or the site handed over), then the LiveKit room with the microphone published and
 * the agent's audio played through an <audio> element. Follows LiveKit's reconnects; hanging up
 * ends the session.
 */
import {
  DisconnectReason,
  type LocalAudioTrack,
  type Participant,
  type RemoteAudioTrack,
  type RemoteTrack,
  Room,
  RoomEvent,
  Track,
} from 'livekit-client';
import { useCallback, useEffect, useRef, useState } from 'react';
import {
  type ApiFailure,
  createSession,
  endSession,
  isSessionGone,
  joinSession,
} from '../session/api';
import type { SessionControl } from '../session/useSession';
import { openMicrophone } from './microphone';
import { type CallProblem, problemOf } from './problems';

type CallPhase = 'idle' | 'starting' | 'connected' | 'reconnecting' | 'ending';

export function useCall(session: SessionControl) {
  const [phase, setPhase] = useState<CallPhase>('idle');
  const [room, setRoom] = useState<Room>();
  const [micTrack, setMicTrack] = useState<LocalAudioTrack>();
  const [agentTrack, setAgentTrack] = useState<RemoteAudioTrack>();
  const [agentJoined, setAgentJoined] = useState(false);
  const [muted, setMuted] = useState(false);
  const [audioBlocked, setAudioBlocked] = useState(false);
  const [problem, setProblem] = useState<CallProblem>();
  const audioRef = useRef<HTMLAudioElement>(null);
  /** The session whose call the room is. */
  const callSessionId = useRef<string | undefined>(undefined);
  const { current, opened, keys, ended, pageTicket } = session;
  const { markEnded } = session.feed;

  const follow = useCallback((next: Room) => {
    const isAgentAudio = (track: RemoteTrack) => track.kind === Track.Kind.Audio;
    const onParticipant = (participant: Participant, present: boolean) => {
      if (participant.isAgent) setAgentJoined(present);
    };
    next
      .on(RoomEvent.TrackSubscribed, (track) => {
        if (!isAgentAudio(track) || !audioRef.current) return;
        track.attach(audioRef.current);
        setAgentTrack(track as RemoteAudioTrack);
      })
      .on(RoomEvent.TrackUnsubscribed, (track) => {
        if (!isAgentAudio(track)) return;
        track.detach();
        setAgentTrack(undefined);
      })
      .on(RoomEvent.AudioPlaybackStatusChanged, () => setAudioBlocked(!next.canPlaybackAudio))
      .on(RoomEvent.ParticipantConnected, (p) => onParticipant(p, true))
      .on(RoomEvent.ParticipantDisconnected, (p) => onParticipant(p, false))
      .on(RoomEvent.Reconnecting, () => setPhase('reconnecting'))
      .on(RoomEvent.SignalReconnecting, () => setPhase('reconnecting'))
      .on(RoomEvent.Reconnected, () => setPhase('connected'))
      .on(RoomEvent.Disconnected, (reason) => {
        setRoom(undefined);
        setMicTrack(undefined);
        setAgentTrack(undefined);
        setAgentJoined(false);
        setAudioBlocked(false);
        // While hanging up, the phase stays 'ending' until the session is ended too.
        setPhase((phase) => (phase === 'ending' ? phase : 'idle'));
        // A deleted room is an ended session; the feed says so. Anything else is a lost call.
        if (
          reason !== DisconnectReason.CLIENT_INITIATED &&
          reason !== DisconnectReason.ROOM_DELETED
        ) {
          setProblem({
            kind: 'call',
            message: 'The connection to the call was lost. Start the call again.',
          });
        }
      });
  }, []);

  const start = useCallback(async () => {
    const next = new Room();
    // Still inside the click: this is what lets the browser play the agent's voice.
    void next.startAudio().catch(() => {});
    setProblem(undefined);
    setPhase('starting');
    let microphone: LocalAudioTrack | undefined;
    try {
      microphone = await openMicrophone();
      const existing = current();
      let joined: { sessionId: string; livekitUrl: string; participantToken: string };
      if (existing) {
        joined = await joinSession(existing);
      } else {
        const created = await createSession(await pageTicket());
        const { sessionId, sessionToken, eventsUrl } = created;
        opened({ sessionId, sessionToken, eventsUrl });
        joined = created;
      }
      callSessionId.current = joined.sessionId;
      follow(next);
      await next.connect(joined.livekitUrl, joined.participantToken);
      await next.localParticipant.publishTrack(microphone);
      setAgentJoined([...next.remoteParticipants.values()].some((p) => p.isAgent));
      setMuted(false);
      setMicTrack(microphone);
      setRoom(next);
      setPhase('connected');
    } catch (error) {
      microphone?.stop();
      await next.disconnect();
      setPhase('idle');
      setProblem(problemOf(error));
      if (isSessionGone(error)) markEnded((error as ApiFailure).code);
    }
  }, [current, opened, pageTicket, follow, markEnded]);

  const hangUp = useCallback(async () => {
    setPhase('ending');
    await room?.disconnect();
    try {
      if (keys) await endSession(keys);
      // Ended here rather than when the feed says so, so a quick new call opens a new session.
      markEnded('ended_by_client');
    } catch {
      // The agent, alone in the room, leaves by itself; the session stays open for text.
    }
    setPhase('idle');
  }, [room, keys, markEnded]);

  // The session can end without this page hanging up (another tab, idle timeout), or the site can
  // hand the page another one: the call of the one before is over for this page.
  useEffect(() => {
    if (ended || keys?.sessionId !== callSessionId.current) void room?.disconnect();
  }, [ended, keys, room]);

  const toggleMute = useCallback(async () => {
    if (!micTrack) return;
    await (muted ? micTrack.unmute() : micTrack.mute());
    setMuted(!muted);
  }, [micTrack, muted]);

  const enableAudio = useCallback(() => void room?.startAudio().catch(() => {}), [room]);

  return {
    phase,
    room,
    micTrack,
    agentTrack,
    agentJoined,
    muted,
    audioBlocked,
    problem,
    audioRef,
    start,
    hangUp,
    toggleMute,
    enableAudio,
    dismissProblem: () => setProblem(undefined),
  };
}

export type Call = ReturnType<typeof useCall>;
