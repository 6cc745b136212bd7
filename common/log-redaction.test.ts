import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { logSecrets, redactLogLine } from './log-redaction.js';

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzZXNzaW9uLTEifQ.c2lnbmF0dXJlLXBhcnQ';
const SECRET = 'sk-test-0123456789';
const line = (fields: object) => `${JSON.stringify({ time: 1, pid: 2, ...fields })}\n`;
const redacted = (text: string) => JSON.parse(redactLogLine(text, [SECRET]));

describe('redactLogLine', () => {
  it('keeps only the length of private values at info and above', () => {
    const said = 'I heard: "My name is Ada.". How can I help?';
    for (const level of [30, 40, 50]) {
      const out = redactLogLine(
        line({ level, 'lk.pii.message': said, speech_id: 'speech_1', msg: 'playout completed' }),
        [],
      );
      expect(out).not.toContain('Ada');
      expect(out.endsWith('}\n')).toBe(true);
      expect(JSON.parse(out)).toMatchObject({
        level,
        speech_id: 'speech_1',
        'lk.pii.message': `[redacted: ${said.length} chars]`,
        msg: 'playout completed',
      });
    }
    expect(
      redacted(line({ level: 40, 'lk.pii.response.function_calls': [{ name: 'x' }] })),
    ).toMatchObject({ 'lk.pii.response.function_calls': '[redacted]' });
  });

  it('leaves debug lines and other fields as they are', () => {
    const debug = line({ level: 20, 'lk.pii.transcript': 'My name is Ada.', msg: 'end of turn' });
    expect(redactLogLine(debug, [])).toBe(debug);
    const info = line({ level: 30, pipeline: 'pii-free', msg: 'a message about pii' });
    expect(redactLogLine(info, [])).toBe(info);
  });

  it('removes tokens and secrets at every level, also from text that is not JSON', () => {
    for (const level of [20, 30, 50]) {
      const out = redactLogLine(
        line({
          level,
          metadata: `{"ingestToken":"${TOKEN}"}`,
          err: { message: `bad key ${SECRET}` },
        }),
        [SECRET],
      );
      expect(out).not.toContain(TOKEN);
      expect(out).not.toContain(SECRET);
      expect(JSON.parse(out).err.message).toBe('bad key [secret]');
    }
    expect(redactLogLine(`Bearer ${TOKEN} and ${SECRET}\n`, [SECRET])).toBe(
      'Bearer [token] and [secret]\n',
    );
  });

  it('keeps ids that merely contain the start of a token', () => {
    const ids = line({ level: 30, id: 'EV_Bi2eyJzNxiC7', room: 'session-jPudWHqpe9yKQxipeyJp8w' });
    expect(redactLogLine(ids, [])).toBe(ids);
  });
});

describe('redactStdout', () => {
  it("redacts the lines the agents framework's own logger writes", async () => {
    // A process of its own: the framework's logger writes to the process's stdout.
    const script = `
      import { initializeLogger, log } from '@livekit/agents';
      import { redactStdout } from './common/log-redaction.ts';
      redactStdout(['${SECRET}']);
      initializeLogger({ pretty: false, level: 'debug' });
      const job = log().child({ jobID: 'AJ_1' });
      job.info({ 'lk.pii.message': 'My name is Ada.' }, 'playout completed');
      job.debug({ 'lk.pii.transcript': 'My name is Ada.' }, 'end of user turn');
      job.warn({ error: new Error('bad key ${SECRET} for ${TOKEN}') }, 'provider failed');
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: fileURLToPath(new URL('..', import.meta.url)) },
    );
    const [info, debug, warn] = stdout
      .trim()
      .split('\n')
      .map((text) => JSON.parse(text));
    expect(info).toMatchObject({ jobID: 'AJ_1', 'lk.pii.message': '[redacted: 15 chars]' });
    expect(debug).toMatchObject({ 'lk.pii.transcript': 'My name is Ada.' });
    expect(warn.error.message).toBe('bad key [secret] for [token]');
  });
});

describe('logSecrets', () => {
  it('takes the keys and secrets of a configuration and the passwords of its URLs, and skips short placeholders', () => {
    expect(
      logSecrets({
        LIVEKIT_API_KEY: 'devkey',
        LIVEKIT_API_SECRET: 'devsecret-change-me-0123456789abcdef',
        OPENAI_API_KEY: SECRET,
        DEEPGRAM_API_KEY: undefined,
        LLM_FALLBACK_API_KEY: 'fallback-key-123',
        API_KEYS: ['client-key-aaaa', 'client-key-bbbb'],
        LLM_MODEL: 'gpt-4.1-mini-long-name',
        REDIS_URL: 'redis://:redis%2Fpass-0123@redis.internal:6379/0',
        LIVEKIT_URL: 'wss://livekit.example.com',
      }).sort(),
    ).toEqual(
      [
        'devsecret-change-me-0123456789abcdef',
        SECRET,
        'fallback-key-123',
        'client-key-aaaa',
        'client-key-bbbb',
        'redis/pass-0123',
      ].sort(),
    );
  });
});
