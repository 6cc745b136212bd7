/** A labelled choice of microphone or speaker for the call. */
import type { DeviceChoice, DeviceKind } from '../call/useDevices';

interface DevicePickerProps {
  kind: DeviceKind;
  label: string;
  choice: DeviceChoice;
  onChoose: (kind: DeviceKind, deviceId: string) => void;
}

export function DevicePicker({ kind, label, choice, onChoose }: DevicePickerProps) {
  if (choice.devices.length === 0) return null;
  const id = `device-${kind}`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={choice.active ?? choice.devices[0]?.deviceId}
        onChange={(event) => onChoose(kind, event.target.value)}
      >
        {choice.devices.map((device, index) => (
          <option key={device.deviceId} value={device.deviceId}>
            {device.label || `${label} ${index + 1}`}
          </option>
        ))}
      </select>
    </div>
  );
}
