/**
 * README's check of a tool call's signature, run as a user would copy it, against calls this server
 * signs: it accepts them, and refuses a changed body, another secret and an old timestamp.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../common/paths.js';
import { SIGNATURE_HEADER, signToolCall, TIMESTAMP_HEADER } from '../../common/tools/http-tool.js';

type Verify = (secret: string, headers: Record<string, string>, body: string) => boolean;

const readme = await readFile(join(PROJECT_ROOT, 'README.md'), 'utf8');
const example =
  /<!-- tool-signature:start -->\n```js\n([\s\S]*?)```\n<!-- tool-signature:end -->/.exec(
    readme,
  )?.[1];
const dir = await mkdtemp(join(tmpdir(), 'readme-example-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

it('README has the example, and it checks the signatures this server makes', async () => {
  expect(example, 'README: the tool-signature example').toBeDefined();
  const file = join(dir, 'verify.mjs');
  await writeFile(file, example as string);
  const { verifyToolCall } = (await import(pathToFileURL(file).href)) as { verifyToolCall: Verify };

  const body = JSON.stringify({ session_id: 's', tool: 't', arguments: {}, call_id: 'c' });
  const now = String(Math.floor(Date.now() / 1000));
  const headers = (timestamp: string, signedBody = body, secret = 'secret') => ({
    [TIMESTAMP_HEADER]: timestamp,
    [SIGNATURE_HEADER]: signToolCall(secret, timestamp, signedBody),
  });

  expect(verifyToolCall('secret', headers(now), body)).toBe(true);
  expect(verifyToolCall('secret', headers(now), body.replace('"t"', '"u"'))).toBe(false);
  expect(verifyToolCall('secret', headers(now, body, 'other'), body)).toBe(false);
  const old = String(Math.floor(Date.now() / 1000) - 600);
  expect(verifyToolCall('secret', headers(old), body)).toBe(false);
  expect(verifyToolCall('secret', {}, body)).toBe(false);
});
