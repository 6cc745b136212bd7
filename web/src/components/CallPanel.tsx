/**
 * The call: its turn state, start and hang up, mute, the two level meters, device choices, and
 * what is going on with the connection (connecting, reconnecting, blocked audio, no agent yet).
 */
import { useEffect, useRef, useState } from 'react';
import type { TurnState } from '../../../common/protocol';
import type { Call } from '../call/useCall';
import { useDevices } from '../call/useDevices';
import { DevicePicker } from './DevicePicker';
import { LevelMeter } from './LevelMeter';
import { StateIndicator } from './StateIndicator';

/** After this long without the agent in the room, the page says where to look. */
const AGENT_LATE_MS = 15_000;
const RECONNECTED_SHOWN_MS = 4000;

function useConnectionNote(call: Call, unavailable: string | undefined): string {
  const [agentLate, setAgentLate] = useState(false);
  const [reconnected, setReconnected] = useState(false);
  const wasReconnecting = useRef(false);
  const waitingForAgent = call.phase === 'connected' && !call.agentJoined;

  useEffect(() => {
    setAgentLate(false);
    if (!waitingForAgent) return;
    const timer = setTimeout(() => setAgentLate(true), AGENT_LATE_MS);
    return () => clearTimeout(timer);
  }, [waitingForAgent]);

  useEffect(() => {
    if (call.phase === 'reconnecting') wasReconnecting.current = true;
    if (call.phase !== 'connected' || !wasReconnecting.current) return;
    wasReconnecting.current = false;
    setReconnected(true);
    const timer = setTimeout(() => setReconnected(false), RECONNECTED_SHOWN_MS);
    return () => clearTimeout(timer);
  }, [call.phase]);

  switch (call.phase) {
    case 'idle':
      return unavailable ?? 'Not in a call';
    case 'starting':
      return 'Connecting…';
    case 'reconnecting':
      return 'Connection lost, reconnecting…';
    case 'ending':
      return 'Hanging up…';
    case 'connected':
      if (reconnected) return 'Reconnected';
      if (agentLate) {
        return 'The agent has not joined. Check that the agent worker is running and every service below is configured.';
      }
      if (waitingForAgent) return 'Waiting for the agent to join…';
      return call.muted ? 'In call, microphone muted' : 'In call';
  }
}

interface CallPanelProps {
  call: Call;
  turnState: TurnState;
  /** Why a call cannot start now, as far as the server's health tells. */
  unavailable: string | undefined;
}

export function CallPanel({ call, turnState, unavailable }: CallPanelProps) {
  const devices = useDevices(call.room);
  const note = useConnectionNote(call, unavailable);
  const inCall = call.phase === 'connected' || call.phase === 'reconnecting';

  return (
    <section className="card call" aria-labelledby="call-title" data-phase={call.phase}>
      <h2 id="call-title" className="card-title">
        Voice call
      </h2>
      <StateIndicator state={turnState} />
      <p className="call-note" role="status">
        {note}
      </p>
      {call.audioBlocked && (
        <button type="button" className="button attention" onClick={call.enableAudio}>
          Click to enable audio
        </button>
      )}
      {inCall && (
        <div className="meters">
          <LevelMeter
            label="You"
            track={call.muted ? undefined : call.micTrack?.mediaStreamTrack}
          />
          <LevelMeter label="Agent" track={call.agentTrack?.mediaStreamTrack} />
        </div>
      )}
      <div className="controls">
        {inCall || call.phase === 'ending' ? (
          <>
            <button
              type="button"
              className="button"
              onClick={() => void call.toggleMute()}
              disabled={!inCall}
            >
              {call.muted ? 'Unmute' : 'Mute'}
            </button>
            <button
              type="button"
              className="button danger"
              onClick={() => void call.hangUp()}
              disabled={!inCall}
            >
              Hang up
            </button>
          </>
        ) : (
          <button
            type="button"
            className="button primary large"
            onClick={() => void call.start()}
            disabled={call.phase === 'starting'}
          >
            {call.phase === 'starting' ? 'Connecting…' : 'Start call'}
          </button>
        )}
      </div>
      {inCall && (
        <div className="devices">
          <DevicePicker
            kind="audioinput"
            label="Microphone"
            choice={devices.input}
            onChoose={devices.choose}
          />
          <DevicePicker
            kind="audiooutput"
            label="Speaker"
            choice={devices.output}
            onChoose={devices.choose}
          />
          {devices.error && (
            <p className="field-error" role="alert">
              {devices.error}
            </p>
          )}
        </div>
      )}
      {/* biome-ignore lint/a11y/useMediaCaption: the transcript beside the call is its live caption. */}
      <audio ref={call.audioRef} />
    </section>
  );
}
