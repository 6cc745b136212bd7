/**
 * The API's side of LiveKit: rooms created together with the agent dispatch, and participant
 * tokens that can do no more than a caller needs.
 */
import {
  AccessToken,
  DataPacket_Kind,
  RoomAgentDispatch,
  RoomServiceClient,
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

export interface LivekitGateway {
  readonly url: string;
  createRoomWithAgent(roomName: string, metadata: JobMetadata): Promise<void>;
  deleteRoom(roomName: string): Promise<void>;
  roomExists(roomName: string): Promise<boolean>;
  createParticipantToken(grant: ParticipantGrant): Promise<string>;
  /** Hands a typed message to the agent of a live call; only the server can send these. */
  sendToAgent(roomName: string, message: AgentChatMessage): Promise<void>;
  isReachable(timeoutMs: number): Promise<boolean>;
}

/** How long an empty room lives: long enough for a page reload to rejoin. */
const EMPTY_ROOM_TIMEOUT_S = 120;

export function createLivekitGateway(
  config: LivekitConfig & { LIVEKIT_PUBLIC_URL?: string | undefined },
): LivekitGateway {
  const httpUrl = config.LIVEKIT_URL.replace(/^ws/, 'http');
  const rooms = new RoomServiceClient(httpUrl, config.LIVEKIT_API_KEY, config.LIVEKIT_API_SECRET);

  return {
    url: config.LIVEKIT_PUBLIC_URL ?? config.LIVEKIT_URL,
    async createRoomWithAgent(roomName, metadata) {
      await rooms.createRoom({
        name: roomName,
        emptyTimeout: EMPTY_ROOM_TIMEOUT_S,
        agents: [
          new RoomAgentDispatch({
            agentName: config.AGENT_NAME,
            metadata: JSON.stringify(metadata),
          }),
        ],
      });
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
