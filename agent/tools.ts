/**
 * A call's tools: the session's own HTTP tools (from the dispatch), TOOLS_FILE's and the MCP
 * servers' (listed at job start), as the agents framework's function tools. While one runs longer
 * than TOOL_FILLER_AFTER_MS the agent says a short filler (interruptible); a tool that gives no
 * result becomes a `ToolError` telling the LLM to apologise without guessing, and an `error`
 * `tool_failed` in the feed.
 */
import { randomUUID } from 'node:crypto';
import { llm, type log, type voice } from '@livekit/agents';
import type { HttpTool } from '../common/tools/declarations.js';
import {
  connectMcpServers,
  describeMcpServer,
  type McpConnection,
  type McpTool,
  warnLeftOut,
} from '../common/tools/mcp-tools.js';
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

export interface CallToolsOptions {
  sessionId: string;
  sessionTools: HttpTool[];
  events: EventReporter;
  logger: ReturnType<typeof log>;
}

/**
 * The tools of one call. The HTTP tools are there from the start; the MCP servers' are listed
 * while the call goes on and handed to the agent when they are (a slow or unreachable server never
 * holds the agent's joining up). `close()` when the call ends.
 */
export class CallTools {
  readonly #connections: McpConnection[] = [];
  #closed = false;

  readonly #filler: Filler;

  constructor(
    private readonly config: AgentConfig,
    private readonly setup: ToolsSetup,
    private readonly options: CallToolsOptions,
  ) {
    this.#filler = {
      afterMs: config.TOOL_FILLER_AFTER_MS,
      text: config.TOOL_FILLER_TEXT,
      onSaid: (text) =>
        options.events.report({
          event_type: 'conversation_item',
          role: 'assistant',
          text,
          source: 'voice',
          item_id: `item_filler_${randomUUID()}`,
        }),
    };
  }

  /** The function tools the agent starts with: the HTTP tools. */
  initial(): llm.FunctionTool[] {
    return agentTools(this.#toolbox([]), this.#filler);
  }

  /**
   * Connects the MCP servers, and gives the agent each server's tools as soon as it has listed
   * them: a slow server delays only its own tools.
   */
  async addMcpTools(agent: voice.Agent): Promise<void> {
    const listed: McpTool[] = [];
    let updates = Promise.resolve();
    await Promise.all(
      this.setup.mcp.map(async (server) => {
        const connection = await connectMcpServers([server], {
          onLost: () =>
            this.options.logger.warn(
              { server: describeMcpServer(server) },
              'MCP server connection lost: its tools fail for the rest of this call',
            ),
        });
        if (this.#closed) return connection.close();
        this.#connections.push(connection);
        for (const failure of connection.failures) {
          this.options.logger.warn(
            failure,
            'MCP server unavailable: its tools are left out of this call',
          );
        }
        warnLeftOut(connection, this.options.logger);
        if (connection.tools.length === 0) return;
        listed.push(...connection.tools);
        const tools = agentTools(this.#toolbox([...listed]), this.#filler);
        updates = updates.then(() => agent.updateTools(tools));
        await updates;
        this.options.logger.info(
          { server: describeMcpServer(server), tools: connection.tools.map((tool) => tool.name) },
          'MCP tools added to the call',
        );
      }),
    );
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#connections.map((connection) => connection.close()));
  }

  #toolbox(mcp: McpTool[]): Toolbox {
    return createToolbox({
      sessionId: this.options.sessionId,
      http: [...this.options.sessionTools, ...this.setup.http],
      mcp,
      signingSecret: this.config.TOOLS_SIGNING_SECRET,
      report: (event) => this.options.events.report(event),
      log: this.options.logger,
    });
  }
}

/** The call's tools, with TOOLS_FILE and MCP_SERVERS as read once in this process. */
export async function openCallTools(
  config: AgentConfig,
  options: CallToolsOptions,
): Promise<CallTools> {
  return new CallTools(config, await configuredTools(config), options);
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
function agentTools(toolbox: Toolbox, filler: Filler): llm.FunctionTool[] {
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

/** Calls whose filler is being said: tools running side by side share one. */
const sayingFiller = new WeakSet<voice.AgentSession>();

/** Says the filler, unless one is being said in this call or the call is closing. */
export function sayFiller(session: voice.AgentSession, filler: Filler) {
  if (sayingFiller.has(session)) return;
  let speech: voice.SpeechHandle;
  try {
    speech = session.say(filler.text, { allowInterruptions: true, addToChatCtx: false });
  } catch {
    // The session is closing (a drain, a hang-up): nothing more is said, the tool still answers.
    return;
  }
  sayingFiller.add(session);
  speech.addDoneCallback(() => {
    sayingFiller.delete(session);
    filler.onSaid(filler.text);
  });
}
