/**
 * The tools of text chat without a call: TOOLS_FILE's and the MCP servers' plus each session's own,
 * run by the chat LLM's tool loop. The MCP servers are connected in the background from the start:
 * a turn gets the tools of the servers listed by then, and a server that could not be reached is
 * tried again, at most every RECONNECT_AFTER_MS, by a later turn. Tool events go to the session's
 * log in the order they happen.
 */
import type { Logger } from 'pino';
import type { ToolsConfig } from '../../common/config.js';
import type { SessionEventBody } from '../../common/protocol.js';
import type { McpServer } from '../../common/tools/declarations.js';
import {
  connectMcpServers,
  describeMcpServer,
  type McpConnection,
  warnLeftOut,
} from '../../common/tools/mcp-tools.js';
import { loadToolsSetup } from '../../common/tools/setup.js';
import { createToolbox, type Toolbox } from '../../common/tools/toolbox.js';
import type { SessionRecord } from '../store/types.js';

export interface ChatTools {
  /** The toolbox of one turn; `report` gets its events in order. */
  forSession(session: SessionRecord, report: (event: SessionEventBody) => void): Toolbox;
  /** Resolves once each MCP server's connection in progress has succeeded or failed. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

const RECONNECT_AFTER_MS = 30_000;

/** Reads TOOLS_FILE (a bad one throws, naming the problem) and starts connecting the MCP servers. */
export async function openChatTools(config: ToolsConfig, logger: Logger): Promise<ChatTools> {
  const setup = await loadToolsSetup(config);
  if (setup.http.length > 0) {
    logger.info({ tools: setup.http.map((tool) => tool.name) }, 'HTTP tools configured');
    if (!config.TOOLS_SIGNING_SECRET) {
      logger.warn('TOOLS_SIGNING_SECRET is not set: HTTP tool calls go unsigned');
    }
  }
  const servers = setup.mcp.map((server) => mcpServerSlot(server, logger));
  return {
    forSession: (session, report) =>
      createToolbox({
        sessionId: session.sessionId,
        http: [...(session.tools ?? []), ...setup.http],
        mcp: servers.flatMap((slot) => slot.tools()),
        signingSecret: config.TOOLS_SIGNING_SECRET,
        report,
        log: logger.child({ sessionId: session.sessionId }),
      }),
    ready: async () => {
      await Promise.all(servers.map((slot) => slot.ready()));
    },
    close: async () => {
      await Promise.all(servers.map((slot) => slot.close()));
    },
  };
}

/**
 * One MCP server: connecting (at once, and again after a failure or once its connection is lost,
 * at most every RECONNECT_AFTER_MS), or connected.
 */
function mcpServerSlot(server: McpServer, logger: Logger) {
  let connection: McpConnection | undefined;
  let connecting: Promise<void> | undefined;
  let triedAt = 0;
  let closed = false;
  const connect = () => {
    triedAt = Date.now();
    let lost = false;
    const onLost = () => {
      lost = true;
      if (!connection) return;
      logger.warn({ server: describeMcpServer(server) }, 'MCP server connection lost');
      void connection.close();
      connection = undefined;
    };
    connecting = connectMcpServers([server], { onLost }).then(async (made) => {
      connecting = undefined;
      if (closed || lost) return made.close();
      for (const failure of made.failures) {
        logger.warn(failure, 'MCP server unavailable: text chat goes on without its tools');
      }
      warnLeftOut(made, logger);
      if (made.failures.length > 0) return;
      connection = made;
      logger.info(
        { server: describeMcpServer(server), tools: made.tools.map((tool) => tool.name) },
        'MCP server connected: its tools are in text chat',
      );
    });
  };
  connect();
  return {
    tools() {
      if (!connection && !connecting && Date.now() - triedAt >= RECONNECT_AFTER_MS) connect();
      return connection?.tools ?? [];
    },
    ready: () => connecting ?? Promise.resolve(),
    /** A connection still in progress closes itself when it ends; shutdown does not wait for it. */
    async close() {
      closed = true;
      await connection?.close();
    },
  };
}
