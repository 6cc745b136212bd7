/**
 * The API's side of LiveKit: rooms created together with the agent dispatch, replacement agents
 * for calls that lost theirs, and participant tokens that can do no more than a caller needs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AccessToken,
  AgentDispatchClient,
  DataPacket_Kind,
  type ParticipantInfo,
  RoomAgentDispatch,
  RoomServiceClient,
  ServerError,
  TrackSource,
} from 'livekit-server-sdk';
import type { LivekitConfig } from '../common/config.js';
import { AGENT_CHAT_TOPIC, type AgentChatMessage, type JobMetadata } from '../common/protocol.js';

export interface ParticipantGrant {
  roomName: string;
  identity: string;
  name?: string;
  ttlSeconds: number;
}

/** Someone in a call, as far as keeping an agent in it goes. */
export interface CallParticipant {
  identity: string;
  agent: boolean;
}

/** An agent job for a room: the identity its agent joins with, and when a worker took it. */
export interface AgentJob {
  identity: string;
  assignedAt: number;
}

export interface LivekitGateway {
  readonly url: string;
  createRoomWithAgent(roomName: string, metadata: JobMetadata): Promise<void>;
  /** Sends another agent into an existing room, for a call that lost its agent or never got one. */
  dispatchAgent(roomName: string, metadata: JobMetadata): Promise<void>;
  /**
   * The agent jobs LiveKit has handed to workers for the room, joined or not. LiveKit keeps them
   * as they were when assigned: a job that died still looks like one that is starting.
   */
  agentJobs(roomName: string): Promise<AgentJob[]>;
  /** Who is in the room; null when there is no such room. */
  listParticipants(roomName: string): Promise<CallParticipant[] | null>;
  deleteRoom(roomName: string): Promise<void>;
  roomExists(roomName: string): Promise<boolean>;
  createParticipantToken(grant: ParticipantGrant): Promise<string>;
  /** Hands a typed message to the agent of a live call; only the server can send these. */
  sendToAgent(roomName: string, message: AgentChatMessage): Promise<void>;
  isReachable(timeoutMs: number): Promise<boolean>;
}

/** How long an empty room lives: long enough for a page reload to rejoin. */
const EMPTY_ROOM_TIMEOUT_S = 120;

/** `ParticipantInfo.Kind.AGENT` in LiveKit's protocol. */
const AGENT_KIND = 4;

export const isAgentParticipant = (participant: Pick<ParticipantInfo, 'kind'>) =>
  participant.kind === AGENT_KIND;

/** Waits before each retry of a room call LiveKit did not answer (it may be restarting). */
const ROOM_RETRY_DELAYS_MS = [250, 750];

/** No answer at all (refused, reset, timed out), or LiveKit saying it cannot serve right now. */
const isTransient = (error: unknown) =>
  !(error instanceof ServerError) || error.status === 502 || error.status === 503;

async function retryTransient<T>(call: () => Promise<T>): Promise<T> {
  for (const delayMs of ROOM_RETRY_DELAYS_MS) {
    try {
      return await call();
    } catch (error) {
      if (!isTransient(error)) throw error;
      await sleep(delayMs);
    }
  }
  return call();
}

export function createLivekitGateway(
  config: LivekitConfig & { LIVEKIT_PUBLIC_URL?: string | undefined },
): LivekitGateway {
  const httpUrl = config.LIVEKIT_URL.replace(/^ws/, 'http');
  const rooms = new RoomServiceClient(httpUrl, config.LIVEKIT_API_KEY, config.LIVEKIT_API_SECRET);
  const dispatches = new AgentDispatchClient(
    httpUrl,
    config.LIVEKIT_API_KEY,
    config.LIVEKIT_API_SECRET,
  );

  return {
    url: config.LIVEKIT_PUBLIC_URL ?? config.LIVEKIT_URL,
    async createRoomWithAgent(roomName, metadata) {
      // Creating a room that exists changes nothing, so a retry after a lost answer is safe.
      await retryTransient(() =>
        rooms.createRoom({
          name: roomName,
          emptyTimeout: EMPTY_ROOM_TIMEOUT_S,
          agents: [
            new RoomAgentDispatch({
              agentName: config.AGENT_NAME,
              metadata: JSON.stringify(metadata),
            }),
          ],
        }),
      );
    },
    async dispatchAgent(roomName, metadata) {
      await dispatches.createDispatch(roomName, config.AGENT_NAME, {
        metadata: JSON.stringify(metadata),
      });
    },
    async agentJobs(roomName) {
      const list = await dispatches.listDispatch(roomName);
      return list.flatMap((dispatch) =>
        (dispatch.state?.jobs ?? []).map((job) => ({
          identity: job.state?.participantIdentity ?? '',
          assignedAt: Number((job.state?.startedAt ?? 0n) / 1_000_000n),
        })),
      );
    },
    async listParticipants(roomName) {
      try {
        const participants = await rooms.listParticipants(roomName);
        return participants.map((p) => ({ identity: p.identity, agent: isAgentParticipant(p) }));
      } catch (error) {
        if (error instanceof ServerError && error.status === 404) return null;
        throw error;
      }
    },
    async deleteRoom(roomName) {
      await rooms.deleteRoom(roomName);
    },
    async roomExists(roomName) {
      return (await rooms.listRooms([roomName])).length > 0;
    },
    async sendToAgent(roomName, message) {
      await rooms.sendData(
        roomName,
        new TextEncoder().encode(JSON.stringify(message)),
        DataPacket_Kind.RELIABLE,
        { topic: AGENT_CHAT_TOPIC },
      );
    },
    async createParticipantToken({ roomName, identity, name, ttlSeconds }) {
      const token = new AccessToken(config.LIVEKIT_API_KEY, config.LIVEKIT_API_SECRET, {
        identity,
        name,
        ttl: ttlSeconds,
      });
      token.addGrant({
        room: roomName,
        roomJoin: true,
        canSubscribe: true,
        canPublish: true,
        canPublishData: true,
        canPublishSources: [TrackSource.MICROPHONE],
      });
      return token.toJwt();
    },
    async isReachable(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => {
        timer = setTimeout(resolve, timeoutMs, false);
      });
      const listed = rooms.listRooms([]).then(
        () => true,
        () => false,
      );
      return Promise.race([listed, timeout]).finally(() => clearTimeout(timer));
    },
  };
}
