/** The call's microphone and speaker choices: the lists follow devices plugged in or out. */
import { Room, RoomEvent } from 'livekit-client';
import { useCallback, useEffect, useState } from 'react';

export type DeviceKind = 'audioinput' | 'audiooutput';

/** Choosing the speaker needs setSinkId (Chromium-based browsers, recent Firefox and Safari). */
const canChooseOutput =
  typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;

export interface DeviceChoice {
  devices: MediaDeviceInfo[];
  active: string | undefined;
}

const none: DeviceChoice = { devices: [], active: undefined };

export function useDevices(room: Room | undefined) {
  const [input, setInput] = useState<DeviceChoice>(none);
  const [output, setOutput] = useState<DeviceChoice>(none);
  const [error, setError] = useState<string>();

  useEffect(() => {
    setInput(none);
    setOutput(none);
    if (!room) return;
    const refresh = async () => {
      // Permission was granted when the call opened the microphone; do not ask again.
      const inputs = await Room.getLocalDevices('audioinput', false);
      setInput({ devices: inputs, active: room.getActiveDevice('audioinput') });
      if (!canChooseOutput) return;
      const outputs = await Room.getLocalDevices('audiooutput', false);
      setOutput({ devices: outputs, active: room.getActiveDevice('audiooutput') ?? 'default' });
    };
    const refreshQuietly = () => void refresh().catch(() => {});
    room.on(RoomEvent.MediaDevicesChanged, refreshQuietly);
    room.on(RoomEvent.ActiveDeviceChanged, refreshQuietly);
    refreshQuietly();
    return () => {
      room.off(RoomEvent.MediaDevicesChanged, refreshQuietly);
      room.off(RoomEvent.ActiveDeviceChanged, refreshQuietly);
    };
  }, [room]);

  const choose = useCallback(
    async (kind: DeviceKind, deviceId: string) => {
      setError(undefined);
      const switched = await room?.switchActiveDevice(kind, deviceId).catch(() => false);
      if (switched === false) {
        setError(`That ${kind === 'audioinput' ? 'microphone' : 'speaker'} could not be used.`);
      }
    },
    [room],
  );

  return { input, output, choose, error };
}
