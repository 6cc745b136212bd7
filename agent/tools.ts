/**
 * A call's tools: the session's own HTTP tools (from the dispatch), TOOLS_FILE's and the MCP
 * servers' (listed at job start), as the agents framework's function tools. While one runs longer
 * than TOOL_FILLER_AFTER_MS the agent says a short filler (interruptible); a tool that gives no result becomes a `ToolError` telling the LLM to apologise
 * without guessing, and an `error` `tool_failed` in the feed.
 */
import { llm, type log, type voice } from '@livekit/agents';
import type { HttpTool } from '../common/tools/declarations.js';
import { connectMcpServers, type McpConnection } from '../common/tools/mcp-tools.js';
import { loadToolsSetup, type ToolsSetup } from '../common/tools/setup.js';
import { createToolbox, failureForLlm, type Toolbox } from '../common/tools/toolbox.js';
import type { AgentConfig } from './config.js';
import type { EventReporter } from './event-reporter.js';

let configured: Promise<ToolsSetup> | undefined;
/** TOOLS_FILE and MCP_SERVERS, read once per process (the worker has checked them at start). */
export const configuredTools = (config: AgentConfig) => {
  configured ??= loadToolsSetup(config);
  return configured;
};

export interface CallTools {
  toolbox: Toolbox;
  mcp: McpConnection;
}

/** Connects the MCP servers and builds the call's toolbox; `mcp.close()` when the call ends. */
export async function openCallTools(
  config: AgentConfig,
  options: {
    sessionId: string;
    sessionTools: HttpTool[];
    events: EventReporter;
    logger: ReturnType<typeof log>;
  },
): Promise<CallTools> {
  const setup = await configuredTools(config);
  const mcp = await connectMcpServers(setup.mcp);
  for (const failure of mcp.failures) {
    options.logger.warn(failure, 'MCP server unavailable: its tools are left out of this call');
  }
  const toolbox = createToolbox({
    sessionId: options.sessionId,
    http: [...options.sessionTools, ...setup.http],
    mcp: mcp.tools,
    signingSecret: config.TOOLS_SIGNING_SECRET,
    report: (event) => options.events.report(event),
    log: options.logger,
  });
  return { toolbox, mcp };
}

export interface Filler {
  afterMs: number;
  text: string;
  /**
   * Once it has been said: it is kept out of the LLM's context (a message between a tool call and
   * its result would break the provider's format), but the transcript holds what the caller heard.
   */
  onSaid: (text: string) => void;
}

/** The toolbox as function tools of the agent. */
export function agentTools(toolbox: Toolbox, filler: Filler): llm.FunctionTool[] {
  return toolbox.specs.map((spec) =>
    llm.tool({
      name: spec.name,
      description: spec.description,
      parameters: spec.parameters,
      execute: async (args: Record<string, unknown>, { ctx, toolCallId, abortSignal }) => {
        const timer =
          filler.afterMs > 0
            ? setTimeout(() => sayFiller(ctx.session, filler), filler.afterMs)
            : undefined;
        try {
          const outcome = await toolbox.run(spec.name, args, toolCallId, abortSignal);
          if (!outcome.ok) throw new llm.ToolError(failureForLlm(spec.name, outcome.message));
          return asToolOutput(outcome.output);
        } finally {
          clearTimeout(timer);
        }
      },
    }),
  );
}

/**
 * The framework gives the LLM a tool's output as JSON: a JSON answer goes as it came (not as a
 * quoted string of JSON), text as a string.
 */
function asToolOutput(output: string): unknown {
  try {
    return JSON.parse(output);
  } catch {
    return output;
  }
}

function sayFiller(session: voice.AgentSession, filler: Filler) {
  session
    .say(filler.text, { allowInterruptions: true, addToChatCtx: false })
    .addDoneCallback(() => filler.onSaid(filler.text));
}
