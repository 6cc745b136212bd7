/**
 * The stack without any provider configured: the worker still starts and stays healthy, /health
 * says which stages are unconfigured, and a session's job reports the missing variables once
 * instead of failing again and again.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CreateSessionResponse } from '../../common/protocol.js';
import { startTestStack, type TestStack } from '../support/harness.js';
import { readServiceLog } from '../support/logs.js';

// Empty counts as unset: these override the harness's test-provider settings.
const NO_PROVIDERS = {
  OPENAI_API_KEY: '',
  LLM_BASE_URL: '',
  TTS_BASE_URL: '',
  DEEPGRAM_API_KEY: '',
};
/** Long enough for a failed job to have been dispatched again if it were going to be. */
const NO_RETRY_WINDOW_MS = 5000;

interface LogLine {
  level: number;
  msg: string;
  code?: string;
  missing?: string[];
  sessionId?: string;
}

const missingProviderLines = async (stack: TestStack, sessionId: string) =>
  (await readServiceLog<LogLine>(stack.logDir, 'agent')).filter(
    (line) => line.code === 'provider_not_configured' && line.sessionId === sessionId,
  );

describe('a stack with no provider configured', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack(NO_PROVIDERS);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const workerHealth = () => fetch(`http://127.0.0.1:${stack.ports.agentHealth}/`);

  it('starts a healthy worker, and /health reports every provider unconfigured', async () => {
    expect((await workerHealth()).status).toBe(200);
    const response = await fetch(`${stack.apiUrl}/health`);

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'ok',
      livekit: { reachable: true },
      providers: {
        stt: { name: 'deepgram', configured: false },
        llm: { name: 'openai', configured: false },
        tts: { name: 'openai', configured: false },
      },
    });
  });

  it('still creates sessions; the job logs the missing variables once and the worker stays up', async () => {
    const response = await fetch(`${stack.apiUrl}/api/sessions`, { method: 'POST' });
    expect(response.status).toBe(201);
    const { sessionId } = (await response.json()) as CreateSessionResponse;

    const [line] = await vi.waitFor(
      async () => {
        const lines = await missingProviderLines(stack, sessionId);
        expect(lines).not.toHaveLength(0);
        return lines;
      },
      { timeout: 30_000, interval: 250 },
    );
    expect(line).toMatchObject({
      level: 50,
      missing: [
        expect.stringMatching(/^DEEPGRAM_API_KEY \(.*STT_BASE_URL/),
        expect.stringMatching(/^OPENAI_API_KEY \(.*LLM_BASE_URL.*TTS_BASE_URL/),
      ],
    });
    expect(line?.msg).toMatch(
      /^Provider configuration missing: set DEEPGRAM_API_KEY .*OPENAI_API_KEY/,
    );
    expect(line?.msg.match(/OPENAI_API_KEY/g)).toHaveLength(1);

    await new Promise((resolve) => setTimeout(resolve, NO_RETRY_WINDOW_MS));
    expect(await missingProviderLines(stack, sessionId)).toHaveLength(1);
    expect((await workerHealth()).status).toBe(200);
    const exited = await Promise.race([stack.exited, Promise.resolve('running')]);
    expect(exited).toBe('running');
  });
});
