/**
 * The tools of text chat without a call: TOOLS_FILE's and the MCP servers' (connected once, at
 * start) plus each session's own, run by the chat LLM's tool loop. Their `tool_call`,
 * `tool_result` and `error` events go to the session's log in the order they happen.
 */
import type { Logger } from 'pino';
import type { ToolsConfig } from '../../common/config.js';
import type { SessionEventBody } from '../../common/protocol.js';
import { connectMcpServers } from '../../common/tools/mcp-tools.js';
import { loadToolsSetup } from '../../common/tools/setup.js';
import { createToolbox, type Toolbox } from '../../common/tools/toolbox.js';
import type { SessionRecord } from '../store/types.js';

export interface ChatTools {
  /** The toolbox of one turn; `report` gets its events in order. */
  forSession(session: SessionRecord, report: (event: SessionEventBody) => void): Toolbox;
  close(): Promise<void>;
}

/** Reads TOOLS_FILE (a bad one throws, naming the problem) and connects the MCP servers. */
export async function openChatTools(config: ToolsConfig, logger: Logger): Promise<ChatTools> {
  const setup = await loadToolsSetup(config);
  const mcp = await connectMcpServers(setup.mcp);
  for (const failure of mcp.failures) {
    logger.warn(failure, 'MCP server unavailable: text chat goes on without its tools');
  }
  if (setup.http.length > 0 && !config.TOOLS_SIGNING_SECRET) {
    logger.warn('TOOLS_SIGNING_SECRET is not set: HTTP tool calls go unsigned');
  }
  return {
    forSession: (session, report) =>
      createToolbox({
        sessionId: session.sessionId,
        http: [...(session.tools ?? []), ...setup.http],
        mcp: mcp.tools,
        signingSecret: config.TOOLS_SIGNING_SECRET,
        report,
        log: logger.child({ sessionId: session.sessionId }),
      }),
    close: () => mcp.close(),
  };
}
