/**
 * LiveKit as request handlers see it: a call LiveKit does not answer (down, restarting, refusing)
 * is a 503 `livekit_unavailable`, as when a new session cannot get its room, never an unhandled
 * 500. Wrapping the gateway once, where the app is built, covers every request path, including
 * ones added later. Work outside requests (the call recovery) uses the gateway as it is.
 */
import { ApiError, apiError } from './errors.js';
import type { LivekitGateway } from './livekit.js';

const unavailable = (error: unknown): never => {
  if (error instanceof ApiError) throw error;
  throw apiError(503, 'livekit_unavailable', 'The LiveKit server is unavailable.', {
    cause: error,
  });
};

const guarded =
  <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
  (...args: A): Promise<R> =>
    call(...args).catch(unavailable);

export function livekitForRequests(gateway: LivekitGateway): LivekitGateway {
  return {
    url: gateway.url,
    createRoomWithAgent: guarded(gateway.createRoomWithAgent.bind(gateway)),
    dispatchAgent: guarded(gateway.dispatchAgent.bind(gateway)),
    agentJobs: guarded(gateway.agentJobs.bind(gateway)),
    listParticipants: guarded(gateway.listParticipants.bind(gateway)),
    deleteRoom: guarded(gateway.deleteRoom.bind(gateway)),
    roomExists: guarded(gateway.roomExists.bind(gateway)),
    sendToAgent: guarded(gateway.sendToAgent.bind(gateway)),
    // Signed here, without LiveKit: a failure is a bug, and stays a 500.
    createParticipantToken: gateway.createParticipantToken.bind(gateway),
    // Answers false instead of failing.
    isReachable: gateway.isReachable.bind(gateway),
  };
}
