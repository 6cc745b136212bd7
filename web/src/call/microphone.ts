/**
 * Opens the microphone before anything else of a call, so a person without one (or who said no)
 * hears why at once and no room is made for a call that cannot hear them.
 */
import { createLocalAudioTrack, type LocalAudioTrack, MediaDeviceFailure } from 'livekit-client';

export class MicrophoneProblem extends Error {}

const TEXT_INSTEAD = 'You can still type to the agent below.';

function describe(error: unknown): string {
  switch (MediaDeviceFailure.getFailure(error)) {
    case MediaDeviceFailure.PermissionDenied:
      return `Microphone access is blocked. Allow it in your browser's site settings, then start the call again. ${TEXT_INSTEAD}`;
    case MediaDeviceFailure.NotFound:
      return `No microphone was found. Connect one and start the call again. ${TEXT_INSTEAD}`;
    case MediaDeviceFailure.DeviceInUse:
      return `The microphone is in use by another app. Close that app and try again. ${TEXT_INSTEAD}`;
    default:
      return `The microphone could not be opened. ${TEXT_INSTEAD}`;
  }
}

export async function openMicrophone(): Promise<LocalAudioTrack> {
  // Browsers only offer microphones to pages served over https or from localhost.
  if (!navigator.mediaDevices) {
    throw new MicrophoneProblem(
      `This page is not on a secure address (https or localhost), so the browser offers no microphone. ${TEXT_INSTEAD}`,
    );
  }
  try {
    return await createLocalAudioTrack({
      echoCancellation: true,
      noiseSuppression: true,
      autoGainControl: true,
    });
  } catch (error) {
    throw new MicrophoneProblem(describe(error));
  }
}
