/**
 * Screenshots of the call page at phone and desktop sizes, light and dark, with headless Chromium
 * (playwright-core; CHROMIUM names the browser, /usr/bin/chromium by default). Fails on any
 * console error, so a page that looks right but logs errors does not pass unnoticed.
 * Usage: npm run web:screenshots -- [page URL] [output dir]
 * (defaults: the page the API serves on :8000, test-artifacts/screens)
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const url = process.argv[2] ?? 'http://127.0.0.1:8000/';
const outDir = process.argv[3] ?? join('test-artifacts', 'screens');
mkdirSync(outDir, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
  ],
});
const consoleErrors: string[] = [];
try {
  for (const colorScheme of ['light', 'dark'] as const) {
    for (const [name, viewport] of [
      ['phone', { width: 390, height: 844 }],
      ['desktop', { width: 1280, height: 800 }],
    ] as const) {
      const page = await browser.newPage({ viewport, colorScheme });
      page.on('console', (message) => {
        if (message.type() !== 'error') return;
        consoleErrors.push(`${name}/${colorScheme}: ${message.text()}`);
      });
      await page.goto(url);
      // The status panel has heard from /health once the API line says more than "Checking…".
      await page.getByText('Checking…').first().waitFor({ state: 'detached' });
      const file = join(outDir, `${name}-${colorScheme}.png`);
      await page.screenshot({ path: file, fullPage: name === 'phone' });
      console.log(file);
      await page.close();
    }
  }
} finally {
  await browser.close();
}
if (consoleErrors.length > 0) {
  console.error(consoleErrors.join('\n'));
  process.exit(1);
}
