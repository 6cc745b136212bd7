/**
 * One session's tools, whatever their source (the session's own HTTP tools, TOOLS_FILE's, the MCP
 * servers'), as the agent and the API's chat LLM both use them: what the LLM is told, and a run
 * that checks the arguments, calls the tool, reports `tool_call` / `tool_result` (and `error`
 * `tool_failed`) to the session's feed, and answers the result or why there is none.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { SessionEventBody } from '../protocol.js';
import type { HttpTool } from './declarations.js';
import { callHttpTool, ToolCallError } from './http-tool.js';
import type { McpTool } from './mcp-tools.js';

export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export type ToolOutcome = { ok: true; output: string } | { ok: false; message: string };

export interface ToolLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  debug(details: object, message: string): void;
}

export interface Toolbox {
  readonly specs: readonly ToolSpec[];
  /** Never throws for the tool's failure: that is an outcome, reported to the feed. */
  run(
    name: string,
    /** As the LLM gave them: what is not an object matching the tool's schema is refused. */
    args: unknown,
    callId: string,
    signal?: AbortSignal,
  ): Promise<ToolOutcome>;
}

export interface ToolboxOptions {
  sessionId: string;
  /** The session's own HTTP tools first, then the configured ones; then the MCP servers' tools. */
  http: HttpTool[];
  mcp: McpTool[];
  signingSecret: string | undefined;
  report: (event: SessionEventBody) => void;
  log: ToolLog;
}

interface Entry {
  spec: ToolSpec;
  validate: ValidateFunction | undefined;
  call(args: Record<string, unknown>, callId: string, signal?: AbortSignal): Promise<string>;
}

const ajv = new Ajv({ strict: false, allErrors: false });

/** What the LLM is told when a tool gave no result: enough to apologise, nothing to guess from. */
export const failureForLlm = (name: string, message: string) =>
  `The tool ${name} failed (${message}). Its result is unknown: tell the user briefly that it ` +
  'did not work this time, and do not guess a result.';

export function createToolbox(options: ToolboxOptions): Toolbox {
  const entries = new Map<string, Entry>();
  const add = (spec: ToolSpec, call: Entry['call']) => {
    if (entries.has(spec.name)) {
      options.log.warn({ tool: spec.name }, 'a tool of this name is already declared; ignored');
      return;
    }
    entries.set(spec.name, { spec, validate: compile(spec, options.log), call });
  };
  for (const tool of options.http) {
    add(tool, (args, callId, signal) =>
      callHttpTool(tool, {
        sessionId: options.sessionId,
        callId,
        arguments: args,
        secret: options.signingSecret,
        ...(signal && { signal }),
      }),
    );
  }
  for (const tool of options.mcp) add(tool, (args, _callId, signal) => tool.call(args, signal));

  return {
    specs: [...entries.values()].map((entry) => entry.spec),
    async run(name, args, callId, signal) {
      const entry = entries.get(name);
      const object = isObject(args) ? args : undefined;
      options.report({ event_type: 'tool_call', call_id: callId, name, arguments: object ?? {} });
      const started = performance.now();
      let outcome: ToolOutcome;
      try {
        if (!entry) throw new ToolCallError(`${name} is not a tool of this session`);
        if (!object) throw new ToolCallError('invalid arguments: not a JSON object');
        if (entry.validate && !entry.validate(object)) {
          throw new ToolCallError(`invalid arguments: ${ajv.errorsText(entry.validate.errors)}`);
        }
        outcome = { ok: true, output: await entry.call(object, callId, signal) };
      } catch (error) {
        if (!(error instanceof ToolCallError) && signal?.aborted) {
          // Cut off (barge-in ended the turn): no result, and no failure of the tool's.
          const duration_ms = Math.round(performance.now() - started);
          options.report({
            event_type: 'tool_result',
            call_id: callId,
            name,
            ok: false,
            duration_ms,
          });
          throw error;
        }
        const message =
          error instanceof ToolCallError ? error.message : `failed: ${(error as Error).message}`;
        outcome = { ok: false, message };
      }
      const durationMs = Math.round(performance.now() - started);
      options.report({
        event_type: 'tool_result',
        call_id: callId,
        name,
        ok: outcome.ok,
        duration_ms: durationMs,
      });
      const details = { tool: name, callId, ok: outcome.ok, durationMs };
      if (outcome.ok) {
        options.log.info(details, 'tool answered');
        options.log.debug({ ...details, result: outcome.output }, 'tool result');
      } else {
        options.log.warn({ ...details, reason: outcome.message }, 'tool failed');
        options.report({
          event_type: 'error',
          error_code: 'tool_failed',
          error_message: `The tool ${name} failed: ${outcome.message}`.slice(0, 2000),
          recoverable: true,
        });
      }
      return outcome;
    },
  };
}

/** Compiled argument checks by schema text: a session's tools are read afresh for every turn. */
const validators = new Map<string, ValidateFunction | undefined>();
const MAX_VALIDATORS = 500;

/** The arguments' check; none when a server's schema does not compile here (it checks its own). */
function compile(spec: ToolSpec, log: ToolLog): ValidateFunction | undefined {
  const key = JSON.stringify(spec.parameters);
  if (validators.has(key)) return validators.get(key);
  let validate: ValidateFunction | undefined;
  try {
    validate = ajv.compile(spec.parameters);
    // Ajv keeps every schema it compiled; this map is the (bounded) cache instead.
    ajv.removeSchema(spec.parameters);
  } catch (error) {
    log.warn({ tool: spec.name, reason: (error as Error).message }, 'arguments left unchecked');
  }
  if (validators.size >= MAX_VALIDATORS) validators.delete(validators.keys().next().value ?? '');
  validators.set(key, validate);
  return validate;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
