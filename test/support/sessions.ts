/** A new session for store tests: the room and caller named after its id, fields overridable. */
import type { NewSession } from '../../api/store/types.js';

export const newSession = (sessionId: string, fields: Partial<NewSession> = {}): NewSession => ({
  sessionId,
  roomName: `session-${sessionId}`,
  participantIdentity: `user-${sessionId}`,
  userId: null,
  username: null,
  instructions: null,
  tools: null,
  createdAt: new Date().toISOString(),
  ...fields,
});
