/**
 * A session as clients read it (`sessionResponseSchema`): its state, whether a call is live, and
 * when it expires. What `GET` and `DELETE /api/sessions/:id` answer, and the MCP session tools.
 */
import type { SessionResponse } from '../common/protocol.js';
import type { AppDeps } from './deps.js';
import { sessionExpiresAt } from './session-service.js';
import type { SessionRecord } from './store/types.js';

export const describeSession = (
  deps: Pick<AppDeps, 'config'>,
  session: SessionRecord,
): SessionResponse => ({
  sessionId: session.sessionId,
  roomName: session.roomName,
  state: session.state,
  live: session.live,
  createdAt: session.createdAt,
  lastActivityAt: session.lastActivityAt,
  endedAt: session.endedAt,
  expiresAt: sessionExpiresAt(deps, session),
});
