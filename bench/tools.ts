/**
 * What a tool round trip adds to a turn: one stack with an HTTP tool (TOOLS_FILE, the test tool
 * server answering at once) and an MCP server (the SDK's server of the tests), the realistic
 * provider profile of the voice bench, and in the same call, turn after turn, a turn without a
 * tool, a turn whose LLM first asks for the HTTP tool and then answers from its result, and the
 * same with the MCP tool; then the same three in text chat (POST /api/chat, no call). A tool turn
 * pays a second LLM round (the real cost) and the tool itself, which the feed's `tool_result`
 * `duration_ms` times.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ChatResponse, CreateSessionResponse, SessionEvent } from '../common/protocol.js';
import { replyWithTool, type ToolCallsReply } from '../test/providers/openai.js';
import { ScriptedCaller } from '../test/support/caller.js';
import { startTestStack, type TestStack } from '../test/support/harness.js';
import { orderStatus, startMcpToolServer } from '../test/support/mcp-tool-server.js';
import { synthesizeSpeech } from '../test/support/speech.js';
import { FeedSubscriber } from '../test/support/sse.js';
import { startToolServer, weatherTool } from '../test/support/tool-server.js';
import {
  type BenchOptions,
  type BenchRow,
  type BenchSection,
  ms,
  renderSection,
  type Summary,
  summarize,
} from './report.js';
import {
  applyProfile,
  measureTurn,
  providerLatencyMs,
  QUESTIONS,
  REALISTIC,
  REPLY,
} from './voice-turns.js';

const SECRET = 'bench-tools-secret';
/** The test TTS speaks at 24 kHz; its answers are synthesised before anything is timed. */
const TTS_SAMPLE_RATE = 24_000;

type Mode = 'none' | 'http' | 'mcp';
const MODES: Mode[] = ['none', 'http', 'mcp'];

interface ToolCase {
  call: ToolCallsReply['toolCalls'][number];
  /** The answer made from the tool's result: five words, as REPLY, so that the TTS and the
   * reply's first sentence cost the same as without a tool. */
  answer: (result: unknown) => string;
  expected: string;
}

const FORECAST = 'sunny and mild';
/** The reply's first word is the same as REPLY's, so that its first audible frame comes as early
 * after the audio's start (7 ms with espeak; "It is …" would be heard 7 ms sooner). */
const TOOL_CASES: Record<Exclude<Mode, 'none'>, ToolCase> = {
  http: {
    call: { name: 'get_weather', arguments: { city: 'Paris' } },
    answer: (result) =>
      `That is ${(result as { forecast?: string } | undefined)?.forecast ?? 'unknown'}.`,
    expected: `That is ${FORECAST}.`,
  },
  mcp: {
    call: { name: 'order_status', arguments: { orderId: 'C-3' } },
    // "Order C-3 shipped on Monday." → "That order shipped on Monday."
    answer: (result) => String(result).replace(/^Order \S+/, 'That order'),
    expected: orderStatus('C-3').replace(/^Order \S+/, 'That order'),
  },
};
const expectedReply = (mode: Mode) => (mode === 'none' ? REPLY : TOOL_CASES[mode].expected);

/** A tool message's content: the voice agent gives the tool's output as JSON (text quoted),
 * text chat as it came. */
function toolResult(content: string): unknown {
  try {
    return JSON.parse(content);
  } catch {
    return content;
  }
}

/** The LLM of every turn: REPLY, or the current tool case's call and then its answer. */
function benchReply(mode: () => Mode) {
  const replies = Object.fromEntries(
    Object.entries(TOOL_CASES).map(([name, tool]) => [
      name,
      replyWithTool(/./, tool.call, (content) => tool.answer(toolResult(content))),
    ]),
  );
  return (...args: Parameters<ReturnType<typeof replyWithTool>>) => {
    const current = mode();
    return current === 'none'
      ? REPLY
      : (replies[current] as ReturnType<typeof replyWithTool>)(...args);
  };
}

type ToolResultEvent = Extract<SessionEvent, { event_type: 'tool_result' }>;

/**
 * The turn's events (after `afterSeq`) as the mode expects them: exactly one reply, the expected
 * one (a filler would be a second), and for a tool turn one successful result of its tool, whose
 * duration it answers.
 */
function checkTurn(mode: Mode, events: SessionEvent[], afterSeq: number, reply: string[]) {
  const turn = events.filter((event) => event.seq > afterSeq);
  const expected = expectedReply(mode);
  if (reply.length !== 1 || reply[0] !== expected) {
    throw new Error(`${mode}: replied ${JSON.stringify(reply)}, not ${JSON.stringify(expected)}`);
  }
  const results = turn.filter(
    (event): event is ToolResultEvent => event.event_type === 'tool_result',
  );
  if (mode === 'none') {
    if (results.length > 0) throw new Error('none: a tool was called');
    return undefined;
  }
  const result = results[0];
  if (results.length !== 1 || !result?.ok || result.name !== TOOL_CASES[mode].call.name) {
    throw new Error(`${mode}: tool results ${JSON.stringify(results)}`);
  }
  return result.duration_ms;
}

interface Samples {
  /** Voice: caller's end of speech → first audible agent frame; chat: request → full reply. */
  latencyMs: number[];
  /** tool_call → tool_result, from the feed (whole ms). */
  toolMs: number[];
  /** The LLM test server's clock: the turn's first chat completion request received → the
   * second (the one with the tool's result), whole ms. */
  llmGapMs: number[];
  /** That gap less the LLM's configured time to its tool call and the tool's own time: what the
   * agent (or the API) spends reading the call and sending the result back. */
  handlingMs: number[];
  /** Voice: the framework's end-of-utterance delay (reported for turns without a tool only). */
  endOfUtteranceMs: number[];
}
type Measured = Record<Mode, Samples>;
const emptySamples = (): Measured => ({
  none: { latencyMs: [], toolMs: [], llmGapMs: [], handlingMs: [], endOfUtteranceMs: [] },
  http: { latencyMs: [], toolMs: [], llmGapMs: [], handlingMs: [], endOfUtteranceMs: [] },
  mcp: { latencyMs: [], toolMs: [], llmGapMs: [], handlingMs: [], endOfUtteranceMs: [] },
});

interface TurnSample {
  latencyMs: number;
  toolMs?: number;
  llmGapMs?: number;
  endOfUtteranceMs?: number;
}

/** Runs a turn, and adds to its sample the gap between the LLM requests it made. */
async function withLlmGap(stack: TestStack, turn: () => Promise<TurnSample>) {
  const before = stack.openai.requests.length;
  const sample = await turn();
  const chats = stack.openai.requests.slice(before).filter((request) => request.route === 'chat');
  const [first, second] = chats;
  if (sample.toolMs === undefined || !first || !second) return sample;
  return { ...sample, llmGapMs: second.receivedAt - first.receivedAt };
}

/**
 * `rounds` rounds of one turn of each mode, the order rotated each round, after an unmeasured
 * warm-up turn of each (which also waits for the MCP tools to be listed). The three turns of a
 * round ask the same question: the end-of-turn model's wait depends on the words. A turn whose
 * outcome is not the expected one is reported and asked again, not counted.
 */
async function runRounds(
  rounds: number,
  setMode: (mode: Mode) => void,
  turn: (mode: Mode, question: string) => Promise<TurnSample>,
  failures: string[],
  where: string,
): Promise<Measured> {
  const measured = emptySamples();
  const attempt = async (mode: Mode, round: number) => {
    for (;;) {
      setMode(mode);
      try {
        return await turn(mode, QUESTIONS[round % QUESTIONS.length] as string);
      } catch (error) {
        failures.push(`${where}: ${(error as Error).message}`);
        if (failures.length > 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  };
  for (const mode of MODES) await attempt(mode, 0);
  for (let round = 0; round < rounds; round++) {
    for (let position = 0; position < MODES.length; position++) {
      const mode = MODES[(round + position) % MODES.length] as Mode;
      const sample = await attempt(mode, round + 1);
      measured[mode].latencyMs.push(sample.latencyMs);
      if (sample.toolMs !== undefined) measured[mode].toolMs.push(sample.toolMs);
      if (Number.isFinite(sample.endOfUtteranceMs)) {
        measured[mode].endOfUtteranceMs.push(sample.endOfUtteranceMs as number);
      }
      if (sample.toolMs !== undefined && sample.llmGapMs !== undefined) {
        measured[mode].llmGapMs.push(sample.llmGapMs);
        measured[mode].handlingMs.push(sample.llmGapMs - REALISTIC.llmFirstTokenMs - sample.toolMs);
      }
    }
  }
  return measured;
}

async function measureVoice(
  stack: TestStack,
  rounds: number,
  setMode: (mode: Mode) => void,
  failures: string[],
): Promise<Measured> {
  const caller = await ScriptedCaller.join(stack.apiUrl);
  const feed = await FeedSubscriber.open(caller.session.eventsUrl, caller.session.sessionToken);
  try {
    await caller.waitForTurnState('idle', 0, 30_000);
    return await runRounds(
      rounds,
      setMode,
      (mode, question) =>
        withLlmGap(stack, async () => {
          stack.deepgram.scriptTranscripts([question]);
          const afterSeq = feed.lastSeq;
          // The voice bench's measure, as it is: it resolves once the reply is over.
          const sample = await measureTurn(caller, feed, REALISTIC, question);
          const replies = feed.events
            .filter((event) => event.seq > afterSeq && event.event_type === 'agent_finished')
            .map((event) => (event as { text: string }).text);
          const toolMs = checkTurn(mode, feed.events, afterSeq, replies);
          await new Promise((resolve) => setTimeout(resolve, 300));
          return {
            latencyMs: sample.voiceToVoiceMs,
            endOfUtteranceMs: sample.endOfUtteranceMs,
            ...(toolMs !== undefined && { toolMs }),
          };
        }),
      failures,
      'voice',
    );
  } finally {
    await feed.close();
    await caller.leave();
  }
}

const json = { 'content-type': 'application/json' };

async function measureChat(
  stack: TestStack,
  rounds: number,
  setMode: (mode: Mode) => void,
  failures: string[],
): Promise<Measured> {
  const created = await fetch(`${stack.apiUrl}/api/sessions`, {
    method: 'POST',
    headers: json,
    body: '{"voice":false}',
  });
  if (created.status !== 201) throw new Error(`POST /api/sessions answered ${created.status}`);
  const session = (await created.json()) as CreateSessionResponse;
  const feed = await FeedSubscriber.open(session.eventsUrl, session.sessionToken);
  try {
    return await runRounds(
      rounds,
      setMode,
      (mode, question) =>
        withLlmGap(stack, async () => {
          const afterSeq = feed.lastSeq;
          const sentAt = performance.now();
          const response = await fetch(`${stack.apiUrl}/api/chat`, {
            method: 'POST',
            headers: { ...json, authorization: `Bearer ${session.sessionToken}` },
            body: JSON.stringify({
              message: question,
              sessionId: session.sessionId,
            }),
          });
          const body = (await response.json()) as ChatResponse;
          const latencyMs = performance.now() - sentAt;
          if (response.status !== 200) throw new Error(`/api/chat answered ${response.status}`);
          // The reply's own conversation_item closes the turn in the session's log.
          await feed.waitFor(
            (event) =>
              event.seq > afterSeq &&
              event.event_type === 'conversation_item' &&
              event.role === 'assistant',
            10_000,
            'the reply in the feed',
          );
          const toolMs = checkTurn(mode, feed.events, afterSeq, [body.message]);
          return { latencyMs, ...(toolMs !== undefined && { toolMs }) };
        }),
      failures,
      'chat',
    );
  } finally {
    await feed.close();
  }
}

const p50p95 = (summary: Summary) => `${ms(summary.p50)} / ${ms(summary.p95)}`;
const ratio = (value: number, base: number) => `${(value / base).toFixed(2)}×`;

function rows(
  channel: string,
  measured: Measured,
  baseNote: string,
): { rows: BenchRow[]; summary: Record<string, unknown> } {
  const none = summarize(measured.none.latencyMs);
  const out: BenchRow[] = [
    {
      figure: `${channel}, no tool (p50 / p95, ${none.count} turns)`,
      value: p50p95(none),
      baseline: baseNote,
    },
  ];
  const summary: Record<string, unknown> = { none };
  for (const mode of ['http', 'mcp'] as const) {
    const withTool = summarize(measured[mode].latencyMs);
    const tool = summarize(measured[mode].toolMs);
    const gap = summarize(measured[mode].llmGapMs);
    const handling = summarize(measured[mode].handlingMs);
    const label = mode === 'http' ? 'HTTP tool' : 'MCP tool';
    out.push(
      {
        figure: `${channel}, ${label} (p50 / p95, ${withTool.count} turns)`,
        value: p50p95(withTool),
        baseline: `no tool ${p50p95(none)}`,
      },
      {
        figure: `… added by the ${label} round trip, p50 / p95 (tool − no tool)`,
        value:
          `+${ms(withTool.p50 - none.p50)} (${ratio(withTool.p50, none.p50)}) / ` +
          `+${ms(withTool.p95 - none.p95)} (${ratio(withTool.p95, none.p95)})`,
        baseline:
          `the tool itself (tool_call → tool_result) ${p50p95(tool)}; ` +
          `LLM request → next LLM request ${p50p95(gap)} = the LLM's tool call ` +
          `${REALISTIC.llmFirstTokenMs} ms + the tool + handling ${p50p95(handling)}`,
      },
    );
    summary[mode] = {
      latency: withTool,
      tool,
      llmGap: gap,
      handling,
      addedP50Ms: withTool.p50 - none.p50,
      addedP95Ms: withTool.p95 - none.p95,
    };
  }
  return { rows: out, summary };
}

/** How many voice turns of each kind were heard more than 1 s sooner than the median without a
 * tool (the end-of-turn model ended them early). */
function earlyTurns(voice: Measured): string {
  const threshold = summarize(voice.none.latencyMs).p50 - 1000;
  const early = (mode: Mode) =>
    `${voice[mode].latencyMs.filter((latency) => latency < threshold).length} of ${voice[mode].latencyMs.length}`;
  return `no tool ${early('none')}, HTTP tool ${early('http')}, MCP tool ${early('mcp')}`;
}

export async function runToolsBench({ quick }: BenchOptions): Promise<BenchSection> {
  const voiceRounds = quick ? 4 : 30;
  const chatRounds = quick ? 10 : 50;
  // The questions the caller speaks and the replies the TTS speaks, synthesised before any timing.
  await Promise.all([
    ...QUESTIONS.map((question) => synthesizeSpeech(question)),
    ...MODES.map((mode) => synthesizeSpeech(expectedReply(mode), { sampleRate: TTS_SAMPLE_RATE })),
  ]);
  const [toolServer, mcp] = await Promise.all([startToolServer(SECRET), startMcpToolServer()]);
  // No delay: the tool server answers as soon as it has read the call.
  toolServer.behave('get_weather', { result: { forecast: FORECAST } });
  const toolsFile = join(mkdtempSync(join(tmpdir(), 'bench-tools-')), 'tools.json');
  writeFileSync(
    toolsFile,
    JSON.stringify({
      tools: [{ ...weatherTool(toolServer.urlOf('get_weather')), timeoutMs: 5000 }],
    }),
  );
  let stack: TestStack | undefined;
  const failures: string[] = [];
  try {
    stack = await startTestStack({
      LOG_LEVEL: 'info',
      TOOLS_FILE: toolsFile,
      TOOLS_SIGNING_SECRET: SECRET,
      MCP_SERVERS: JSON.stringify([{ url: mcp.url }]),
      // TOOL_FILLER_AFTER_MS stays at its default (1500 ms): its timer starts when the tool does
      // and is cleared when it answers, so with a tool answering at once it never fires. A filler
      // would be a second reply in the turn, which checkTurn refuses: the figures hold none.
      // One session sends every chat message, past the per-session limit.
      RATE_LIMIT_CHAT: '0',
      RATE_LIMIT_CHAT_PER_SESSION: '0',
    });
    applyProfile(stack, REALISTIC);
    let mode: Mode = 'none';
    stack.openai.setReply(benchReply(() => mode));
    const setMode = (next: Mode) => {
      mode = next;
    };
    const voice = await measureVoice(stack, voiceRounds, setMode, failures);
    const chat = await measureChat(stack, chatRounds, setMode, failures);
    const endpointing = summarize(voice.none.endOfUtteranceMs);
    const voiceRows = rows(
      'voice-to-voice',
      voice,
      `endpointing p50 ${ms(endpointing.p50)} + providers ${providerLatencyMs(REALISTIC)} ms`,
    );
    const chatRows = rows(
      'text chat, POST /api/chat → full reply',
      chat,
      `LLM first token ${REALISTIC.llmFirstTokenMs} ms + ${REPLY.split(' ').length - 1} words × ${REALISTIC.llmTokenIntervalMs} ms`,
    );
    return {
      key: 'tools',
      title: 'Tool round trip (tool answering in 0 ms) against a turn without a tool',
      rows: [...voiceRows.rows, ...chatRows.rows],
      notes: [
        `One stack, one run: TOOLS_FILE with an HTTP tool on the test tool server (no delay, signed calls) and MCP_SERVERS with the test MCP server (the SDK's streamable-HTTP server, stateless); the turns of the three kinds alternate in one call (${voiceRounds} of each) and in one text session (${chatRounds} of each), after an unmeasured one of each.`,
        `Providers as the voice bench's realistic profile: STT final ${REALISTIC.sttEndpointingMs + REALISTIC.sttFinalDelayMs} ms after the end of speech, LLM first token ${REALISTIC.llmFirstTokenMs} ms (also before a tool call), a word every ${REALISTIC.llmTokenIntervalMs} ms, TTS first byte ${REALISTIC.ttsFirstByteMs} ms; framework defaults otherwise (so each voice turn waits the full endpointing delay, see the voice table), TOOL_FILLER_AFTER_MS at its default (it never fires here).`,
        'A tool turn asks the LLM twice: its tool call after the first token delay, then the answer, made from the tool’s result, as long as the reply without a tool (five words); the added latency is tool − no tool, p50 against p50 and p95 against p95.',
        'The tool itself: `tool_result.duration_ms` of the feed (argument check, then the signed POST, or the MCP client’s call; whole ms). LLM request → next LLM request: the LLM test server’s arrival times of the turn’s two chat completion requests; handling = that − the configured time to the tool call − the tool, per turn: the agent’s (or the API’s) own work between the two LLM rounds.',
        `Voice: the voice bench’s measure (caller’s end of speech → first audible agent frame); text chat: POST /api/chat (JSON, one text session, no call) sent → reply read.`,
        `Voice turns the end-of-turn model ended at the minimum delay (300 ms instead of the 2500 ms maximum, so about 2.2 s faster; told apart by a voice-to-voice time over 1 s under the median without a tool), in the figures: ${earlyTurns(voice)}.`,
        `Turns not counted (outcome not the expected one, measured again): ${failures.length === 0 ? 'none' : failures.join('; ')}.`,
      ],
      data: {
        voiceRounds,
        chatRounds,
        voice: { ...voiceRows.summary, endpointing, samples: voice },
        chat: { ...chatRows.summary, samples: chat },
        failures,
      },
    };
  } finally {
    await stack?.stop();
    await Promise.all([toolServer.close(), mcp.close()]);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(renderSection(await runToolsBench({ quick: process.argv.includes('--quick') })));
  process.exit(0);
}
