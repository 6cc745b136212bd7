import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentConfigSchema } from '../../agent/config.js';
import { apiConfigSchema } from '../../api/config.js';
import { weatherTool } from '../../test/support/tool-server.js';
import { loadConfig } from '../config.js';
import { httpToolListSchema } from './declarations.js';
import { loadToolsSetup, parseMcpServers } from './setup.js';

const weather = weatherTool('https://tools.example.com/weather');

const dir = await mkdtemp(join(tmpdir(), 'tools-file-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The messages of what the list schema refuses in `tools`. */
const refusals = (tools: unknown[]) => {
  const parsed = httpToolListSchema.safeParse(tools);
  return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`);
};

describe('HTTP tool declarations', () => {
  it('take a name, description, JSON Schema parameters and URL, with defaults', () => {
    expect(httpToolListSchema.parse([weather])).toStrictEqual([
      { ...weather, timeoutMs: 10_000, idempotent: false },
    ]);
    const noArguments = { ...weather, parameters: undefined };
    expect(httpToolListSchema.parse([noArguments])[0]?.parameters).toStrictEqual({
      type: 'object',
      properties: {},
    });
  });

  it.each([
    ['a name the LLM cannot call', { ...weather, name: 'get weather' }, /0\.name must be 1–64/],
    ['a blank description', { ...weather, description: '  ' }, /0\.description must not be blank/],
    [
      'parameters that are not an object schema',
      { ...weather, parameters: { type: 'string' } },
      /0\.parameters must be a JSON Schema with "type": "object"/,
    ],
    [
      'parameters that are not valid JSON Schema',
      { ...weather, parameters: { type: 'object', properties: { city: { type: 'strng' } } } },
      /0\.parameters is not a valid JSON Schema/,
    ],
    ['a URL that is not http(s)', { ...weather, url: 'file:///etc/passwd' }, /0\.url must be/],
    ['a timeout out of range', { ...weather, timeoutMs: 10 }, /0\.timeoutMs/],
    ['an unknown field', { ...weather, method: 'GET' }, /Unrecognized key/],
  ])('refuse %s', (_, tool, message) => {
    expect(refusals([tool]).join('; ')).toMatch(message);
  });

  it('refuse two tools of the same name', () => {
    expect(refusals([weather, weather])).toStrictEqual(['1.name is declared twice']);
  });
});

describe('TOOLS_FILE and MCP_SERVERS', () => {
  it('read tools from YAML and JSON files', async () => {
    const yamlFile = join(dir, 'tools.yaml');
    await writeFile(
      yamlFile,
      `tools:\n  - name: get_weather\n    description: The weather in a city.\n    url: https://tools.example.com/weather\n    timeoutMs: 2000\n`,
    );
    const jsonFile = join(dir, 'tools.json');
    await writeFile(jsonFile, JSON.stringify({ tools: [weather] }));
    expect((await loadToolsSetup({ TOOLS_FILE: yamlFile })).http[0]).toMatchObject({
      name: 'get_weather',
      timeoutMs: 2000,
    });
    expect((await loadToolsSetup({ TOOLS_FILE: jsonFile })).http[0]).toMatchObject(weather);
  });

  it('refuse a bad file naming the file and the field', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ tools: [{ ...weather, url: 'nope' }] }));
    await expect(loadToolsSetup({ TOOLS_FILE: file })).rejects.toThrow(
      `TOOLS_FILE ${file}: tools.0.url must be an http(s) URL`,
    );
    await expect(loadToolsSetup({ TOOLS_FILE: join(dir, 'missing.yaml') })).rejects.toThrow(
      /TOOLS_FILE .*missing\.yaml cannot be read/,
    );
  });

  it('take MCP servers as URLs or as a JSON array of URLs and commands', () => {
    expect(parseMcpServers('http://127.0.0.1:9000/mcp, https://mcp.example.com/mcp')).toStrictEqual(
      [
        { url: 'http://127.0.0.1:9000/mcp', timeoutMs: 10_000 },
        { url: 'https://mcp.example.com/mcp', timeoutMs: 10_000 },
      ],
    );
    expect(
      parseMcpServers(
        '[{"url":"https://mcp.example.com/mcp","headers":{"authorization":"Bearer k"}},{"command":"npx","args":["my-mcp-server"]}]',
      ),
    ).toStrictEqual([
      {
        url: 'https://mcp.example.com/mcp',
        headers: { authorization: 'Bearer k' },
        timeoutMs: 10_000,
      },
      { command: 'npx', args: ['my-mcp-server'], timeoutMs: 10_000 },
    ]);
    expect(() => parseMcpServers('[{"url":"ftp://x"}]')).toThrow(/MCP_SERVERS: 0/);
    expect(() => parseMcpServers('[not json')).toThrow(/neither a JSON array/);
  });

  it('need TOOLS_SIGNING_SECRET in production when TOOLS_FILE is set, in the API and the worker', () => {
    const production = {
      NODE_ENV: 'production',
      TOOLS_FILE: 'tools.yaml',
      LIVEKIT_API_SECRET: 'a-production-secret-0123456789abcdef',
      API_KEYS: 'k1',
    };
    expect(() => loadConfig(apiConfigSchema, production)).toThrow(
      'TOOLS_SIGNING_SECRET: required in production when TOOLS_FILE is set',
    );
    expect(() => loadConfig(agentConfigSchema, production)).toThrow(
      'TOOLS_SIGNING_SECRET: required in production when TOOLS_FILE is set',
    );
    const signed = { ...production, TOOLS_SIGNING_SECRET: 's3cret' };
    expect(loadConfig(agentConfigSchema, signed).TOOLS_SIGNING_SECRET).toBe('s3cret');
    expect(loadConfig(agentConfigSchema, { TOOLS_FILE: 'tools.yaml' }).TOOLS_FILE).toBe(
      'tools.yaml',
    );
  });
});
