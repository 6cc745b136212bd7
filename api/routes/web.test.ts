/** The built call page at `/`: served when built, absent before, never in the API's way. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTestApp, errorShape, openTestStore } from '../../test/support/test-app.js';

const { store, remove: removeStore } = await openTestStore();
const built = mkdtempSync(join(tmpdir(), 'web-dist-'));
mkdirSync(join(built, 'assets'));
writeFileSync(join(built, 'index.html'), '<!doctype html><title>Voice agent</title>');
writeFileSync(join(built, 'assets', 'index-abc.js'), 'console.log(1)');
const notBuilt = mkdtempSync(join(tmpdir(), 'web-empty-'));
afterAll(async () => {
  await removeStore();
  for (const dir of [built, notBuilt]) rmSync(dir, { recursive: true, force: true });
});

const notFound = errorShape('not_found', 'No such route.');

describe('the call page', () => {
  const { app } = buildTestApp({ store, webDir: built });

  it('is index.html at /', async () => {
    const response = await app.request('/');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toContain('<title>Voice agent</title>');
  });

  it('serves its assets', async () => {
    const response = await app.request('/assets/index-abc.js');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/javascript/);
  });

  it('leaves API routes and unknown paths to the API', async () => {
    expect((await app.request('/health')).headers.get('content-type')).toMatch(/json/);
    const unknown = await app.request('/api/nothing-here');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toStrictEqual(notFound);
    expect((await app.request('/assets/../../package.json')).status).toBe(404);
  });

  it('is not served before a build', async () => {
    const { app: unbuilt } = buildTestApp({ store, webDir: notBuilt });
    const response = await unbuilt.request('/');
    expect(response.status).toBe(404);
    expect(await response.json()).toStrictEqual(notFound);
  });
});
