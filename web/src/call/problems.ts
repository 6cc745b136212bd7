/** What went wrong with a call, in words a person can act on. */
import { ConnectionError } from 'livekit-client';
import { describeFailure } from '../session/plainWords';
import { MicrophoneProblem } from './microphone';

export interface CallProblem {
  kind: 'microphone' | 'call';
  message: string;
}

const CALL_SERVER_UNREACHABLE =
  'This browser could not connect to the call server (LiveKit). Check that it is running and ' +
  'that LIVEKIT_PUBLIC_URL is an address this browser can reach.';

export function problemOf(error: unknown): CallProblem {
  if (error instanceof MicrophoneProblem) return { kind: 'microphone', message: error.message };
  if (error instanceof ConnectionError) return { kind: 'call', message: CALL_SERVER_UNREACHABLE };
  return { kind: 'call', message: describeFailure(error) };
}
