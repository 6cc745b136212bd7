/**
 * Real Chromium for the page's end-to-end tests (Debian's `/usr/bin/chromium`, driven by
 * playwright-core). Its microphone is either a WAV file of espeak-ng speech, which Chromium plays
 * in a loop, or one the user refuses; each page records its console errors and uncaught errors.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { encodeWav, synthesizeSpeech } from './speech.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';

const COMMON_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const WAV_SAMPLE_RATE = 48_000;
const SILENCE_BEFORE_MS = 1000;
// Long enough for the VAD and the Deepgram test server to end the utterance before the loop
// starts it again.
const SILENCE_AFTER_MS = 3000;

/** `speech`: a microphone playing this WAV in a loop, allowed without a prompt.
 * `denied`: a microphone exists, but the prompt for it is refused (NotAllowedError). */
export type Microphone = { kind: 'speech'; wavPath: string } | { kind: 'denied' };

export interface BrowserPage {
  page: Page;
  context: BrowserContext;
  consoleErrors: string[];
  pageErrors: string[];
  close(): Promise<void>;
}

/** Writes `text` as espeak-ng speech between silences: the file for a fake microphone. */
export async function writeSpeechWav(text: string): Promise<string> {
  const { samples } = await synthesizeSpeech(text, { sampleRate: WAV_SAMPLE_RATE });
  const before = (SILENCE_BEFORE_MS * WAV_SAMPLE_RATE) / 1000;
  const after = (SILENCE_AFTER_MS * WAV_SAMPLE_RATE) / 1000;
  const padded = new Int16Array(before + samples.length + after);
  padded.set(samples, before);
  const path = join(await mkdtemp(join(tmpdir(), 'browser-mic-')), 'speech.wav');
  await writeFile(path, encodeWav(padded, WAV_SAMPLE_RATE));
  return path;
}

export async function launchChromium(microphone: Microphone): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: apt-get install chromium`);
  }
  // Without --use-fake-ui-for-media-stream nothing accepts the permission prompt, so the
  // (fake) microphone is refused exactly as when a user clicks "Block".
  const media =
    microphone.kind === 'speech'
      ? [
          '--use-fake-ui-for-media-stream',
          '--use-fake-device-for-media-stream',
          `--use-file-for-fake-audio-capture=${microphone.wavPath}`,
        ]
      : ['--use-fake-device-for-media-stream'];
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...COMMON_ARGS, ...media] });
}

/** A page in a fresh context of `browser`, with its errors recorded from the start. */
export async function openPage(
  browser: Browser,
  url: string,
  viewport = { width: 1280, height: 800 },
): Promise<BrowserPage> {
  const context = await browser.newContext({ viewport, permissions: [] });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(url);
  return { page, context, consoleErrors, pageErrors, close: () => context.close() };
}

const POLL_MS = 20;

/**
 * Evaluates `expression` in the page until it yields a truthy value, and answers that value.
 * Playwright's waitForFunction cannot serve here: it evals its predicate inside the page, which
 * the page's Content-Security-Policy forbids (no 'unsafe-eval'); page.evaluate runs through the
 * debugger protocol, which the policy does not restrict.
 */
export async function waitForValue<T>(
  page: Page,
  expression: string,
  timeoutMs: number,
): Promise<T> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; ) {
    const value = (await page.evaluate(expression)) as T;
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`${expression} yielded nothing within ${timeoutMs} ms`);
}
