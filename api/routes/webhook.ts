/**
 * `POST /api/livekit/webhook`: LiveKit's notices about the calls' rooms. Each one is verified with
 * `WebhookReceiver`: a JWT in `Authorization`, signed with the API secret, issued for the API key,
 * unexpired, carrying the body's sha256. Anything else is refused with 401 and logged at warn (at
 * most once a minute per source address: a misconfigured LiveKit, or someone probing, shows in the
 * logs without flooding them). An agent leaving a call, or a caller joining one, goes to the call
 * recovery, which keeps an agent in every call.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { WebhookReceiver } from 'livekit-server-sdk';
import { LIVEKIT_WEBHOOK_PATH } from '../../common/protocol.js';
import type { CallRecovery } from '../call-recovery.js';
import type { AppDeps } from '../deps.js';
import { apiError } from '../errors.js';
import { isAgentParticipant } from '../livekit.js';
import { clientAddress } from '../middleware/client.js';
import { errorResponse, jsonResponse } from '../openapi.js';
import { oncePerInterval } from '../throttle.js';

const webhookRoute = createRoute({
  method: 'post',
  path: LIVEKIT_WEBHOOK_PATH,
  summary: "LiveKit's webhook (signed by LiveKit with the API key and secret)",
  description:
    'Configure LiveKit with `webhook: {api_key: <LIVEKIT_API_KEY>, urls: [<PUBLIC_URL>/api/livekit/webhook]}`. The body is a LiveKit `WebhookEvent` (`application/webhook+json`).',
  responses: {
    200: jsonResponse('Received', z.object({ received: z.literal(true) })),
    401: errorResponse('Missing, forged or expired signature, or a body that does not match it', [
      'invalid_webhook',
    ]),
    413: errorResponse('Body over 128 KiB', ['request_too_large']),
  },
});

const REFUSAL_LOG_INTERVAL_MS = 60_000;

export function webhookRoutes(
  { config, logger }: Pick<AppDeps, 'config' | 'logger'>,
  recovery: CallRecovery,
) {
  const receiver = new WebhookReceiver(config.LIVEKIT_API_KEY, config.LIVEKIT_API_SECRET);
  const logRefusalFrom = oncePerInterval({ intervalMs: REFUSAL_LOG_INTERVAL_MS });
  const app = new OpenAPIHono();

  app.openapi(webhookRoute, async (c) => {
    const body = await c.req.text();
    const event = await receiver.receive(body, c.req.header('authorization')).catch((error) => {
      const address = clientAddress(c, config.TRUST_PROXY);
      if (logRefusalFrom(address)) {
        // The reason only: the body and the token are the sender's, and may be anything.
        const reason = error instanceof Error ? error.message : String(error);
        logger.warn({ address, reason }, 'refused a LiveKit webhook: bad or missing signature');
      }
      throw apiError(401, 'invalid_webhook', 'The webhook signature is missing or not valid.');
    });
    const roomName = event.room?.name;
    const participant = event.participant;
    if (roomName && participant) {
      logger.debug({ event: event.event, roomName, identity: participant.identity }, 'webhook');
      const left = event.event === 'participant_left';
      const aborted = event.event === 'participant_connection_aborted';
      if (isAgentParticipant(participant)) {
        if (left || aborted) recovery.agentLeft(roomName, participant.identity);
      } else if (event.event === 'participant_joined') {
        recovery.callerJoined(roomName);
      }
    }
    return c.json({ received: true as const }, 200);
  });
  return app;
}
