/**
 * The browser page in real Chromium against the real stack: a voice call through its fake
 * microphone (espeak-ng speech) with the reply shown as text and heard as audio in the page,
 * text chat without a microphone, and a refused microphone.
 */
import { mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultReply, messageText } from '../providers/openai.js';
import {
  type BrowserPage,
  launchChromium,
  openPage,
  waitForValue,
  writeSpeechWav,
} from '../support/browser.js';
import { SPEECH_RMS } from '../support/caller.js';
import { startTestStack, type TestStack } from '../support/harness.js';

const QUESTION = 'What is the capital of France?';
// Several seconds of speech, so the agent is still talking while the page's audio is measured.
const REPLY = 'Paris is the capital of France. It lies on the river Seine, in the north.';
const SCREENS_DIR = 'test-artifacts/screens';
const CALL_TIMEOUT_MS = 60_000;

// Runs in the page, as plain JavaScript: the project's TypeScript has no DOM types. Measures what
// the page plays, from the stream of the <audio> element the agent's track is attached to.
const SAMPLE_AGENT_AUDIO = `async (durationMs) => {
  const audio = [...document.querySelectorAll('audio')].find(
    (element) =>
      element.srcObject instanceof MediaStream && element.srcObject.getAudioTracks().length > 0,
  );
  if (!audio) return { found: false, paused: true, muted: false, maxRms: 0 };
  const context = new AudioContext();
  await context.resume();
  const analyser = context.createAnalyser();
  context.createMediaStreamSource(audio.srcObject).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  let maxRms = 0;
  for (const end = performance.now() + durationMs; performance.now() < end; ) {
    await new Promise((resolve) => setTimeout(resolve, 40));
    analyser.getFloatTimeDomainData(samples);
    let sumOfSquares = 0;
    for (const sample of samples) sumOfSquares += sample * sample;
    maxRms = Math.max(maxRms, Math.sqrt(sumOfSquares / samples.length));
  }
  await context.close();
  return { found: true, paused: audio.paused, muted: audio.muted, maxRms };
}`;

const STREAMING_REPLY_TEXT = `document.querySelector(
  '[aria-label="Transcript"] li[data-role="assistant"][data-final="false"]',
)?.textContent`;

interface PlayedAudio {
  found: boolean;
  paused: boolean;
  muted: boolean;
  maxRms: number;
}

const sampleAgentAudio = (page: Page, durationMs: number) =>
  page.evaluate(`(${SAMPLE_AGENT_AUDIO})(${durationMs})`) as Promise<PlayedAudio>;

const transcriptLines = (page: Page, role: 'user' | 'assistant') =>
  page.getByRole('list', { name: 'Transcript' }).locator(`li[data-role="${role}"]`);

async function sendMessage(page: Page, message: string): Promise<void> {
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(message);
  await box.press('Enter');
}

describe('the browser page', () => {
  let stack: TestStack;
  let callBrowser: Browser;
  let noMicrophoneBrowser: Browser;
  let wavPath: string | undefined;
  const pages: BrowserPage[] = [];

  beforeAll(async () => {
    // Browsers first: their start-up load would otherwise meet the worker's own, while it warms
    // up the processes that take calls.
    wavPath = await writeSpeechWav(QUESTION);
    callBrowser = await launchChromium({ kind: 'speech', wavPath });
    noMicrophoneBrowser = await launchChromium({ kind: 'denied' });
    await mkdir(SCREENS_DIR, { recursive: true });
    stack = await startTestStack();
  });

  afterAll(async () => {
    for (const page of pages) await page.close().catch(() => {});
    await callBrowser?.close();
    await noMicrophoneBrowser?.close();
    await stack?.stop();
    if (wavPath) await rm(dirname(wavPath), { recursive: true, force: true });
  });

  const open = async (browser: Browser) => {
    const opened = await openPage(browser, stack.apiUrl);
    pages.push(opened);
    return opened;
  };

  it('holds a voice call: transcript, reply text, audible reply, hang up', async () => {
    // Chromium replays the microphone file in a loop: every repetition transcribes the same.
    stack.deepgram.scriptTranscripts(Array.from({ length: 10 }, () => QUESTION));
    stack.openai.setReply(() => REPLY);
    const { page, consoleErrors, pageErrors } = await open(callBrowser);

    await page.getByRole('button', { name: 'Start call' }).click();
    const question = transcriptLines(page, 'user').and(page.locator('[data-final="true"]'));
    await question.first().waitFor({ timeout: CALL_TIMEOUT_MS });
    expect(await question.first().textContent()).toContain(QUESTION);
    // The next repetition would talk over the reply and cut it short.
    await page.getByRole('button', { name: 'Mute', exact: true }).click();
    await page.getByRole('button', { name: 'Unmute', exact: true }).waitFor();

    await page
      .locator('[data-testid="turn-state"][data-state="agentSpeaking"]')
      .waitFor({ timeout: CALL_TIMEOUT_MS });
    const played = await sampleAgentAudio(page, 2000);
    expect(played).toMatchObject({ found: true, paused: false, muted: false });
    expect(played.maxRms).toBeGreaterThan(SPEECH_RMS);

    const reply = transcriptLines(page, 'assistant').filter({ hasText: 'Paris is the capital' });
    await reply.first().waitFor({ timeout: CALL_TIMEOUT_MS });
    await page.screenshot({ path: `${SCREENS_DIR}/call-desktop.png`, fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: `${SCREENS_DIR}/call-phone.png`, fullPage: true });
    await expect.poll(() => reply.first().textContent(), { timeout: 20_000 }).toContain(REPLY);
    expect(messageText(stack.openai.chatRequests().at(-1)?.messages.at(-1))).toBe(QUESTION);

    await page.getByRole('button', { name: 'Hang up' }).click();
    await page.getByRole('status').filter({ hasText: 'The call has ended.' }).waitFor();
    await page.getByRole('button', { name: 'Start call' }).waitFor();
    expect(consoleErrors).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('chats by text without a microphone, streaming the reply', async () => {
    stack.openai.setReply(defaultReply);
    // Words arrive apart, so the page has time to show a reply still being written.
    stack.openai.setLatency({ llmTokenIntervalMs: 150 });
    const { page, consoleErrors, pageErrors } = await open(noMicrophoneBrowser);
    try {
      await sendMessage(page, 'Hello from the keyboard');

      await transcriptLines(page, 'user').filter({ hasText: 'Hello from the keyboard' }).waitFor();
      const answer = 'I heard: "Hello from the keyboard". How can I help?';
      // Read in one go in the page, so the text belongs to the line while it is still open.
      const streaming = await waitForValue<string>(page, STREAMING_REPLY_TEXT, 20_000);
      expect(streaming).not.toContain(answer);
      const final = transcriptLines(page, 'assistant').and(page.locator('[data-final="true"]'));
      await final.first().waitFor({ timeout: 20_000 });
      expect(await final.first().textContent()).toContain(answer);
      expect(consoleErrors).toEqual([]);
      expect(pageErrors).toEqual([]);
    } finally {
      stack.openai.setLatency({ llmTokenIntervalMs: 0 });
    }
  });

  it('says so when the microphone is refused, and the text box still works', async () => {
    stack.openai.setReply(defaultReply);
    const { page, consoleErrors, pageErrors } = await open(noMicrophoneBrowser);

    await page.getByRole('button', { name: 'Start call' }).click();
    const alert = page.getByRole('alert').filter({ hasText: /microphone/i });
    await alert.first().waitFor({ timeout: 20_000 });

    await sendMessage(page, 'Can you read this?');
    await transcriptLines(page, 'assistant')
      .filter({ hasText: 'I heard: "Can you read this?". How can I help?' })
      .first()
      .waitFor({ timeout: 20_000 });
    expect(consoleErrors).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
