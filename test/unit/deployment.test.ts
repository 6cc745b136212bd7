/**
 * The container setup as `docker compose up --build` runs it (no Docker engine is needed to check
 * this): each service's environment is the image's ENV with the service's own on top, and the API
 * and the worker must accept it, in the mode the compose file documents.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { agentConfigSchema } from '../../agent/config.js';
import { apiConfigSchema } from '../../api/config.js';
import { loadConfig } from '../../common/config.js';
import { PROJECT_ROOT } from '../../common/paths.js';

interface ComposeService {
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  profiles?: string[];
  deploy?: { replicas?: number };
  depends_on?: string[];
}

const read = (file: string) => readFileSync(join(PROJECT_ROOT, file), 'utf8');
const compose = parse(read('docker-compose.yml')) as {
  services: Record<string, ComposeService>;
  configs: Record<string, { content: string }>;
};

/** The ENV lines of the Dockerfile's last stage, the image the services run. */
function imageEnv(): Record<string, string> {
  const lastStage =
    read('Dockerfile')
      .split(/^FROM /m)
      .at(-1) ?? '';
  const pairs = [...lastStage.matchAll(/^ENV (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]);
  return Object.fromEntries(pairs);
}

const serviceEnv = (name: string) => ({
  ...imageEnv(),
  ...compose.services[name]?.environment,
});

describe('docker compose', () => {
  it('starts the API and the worker with the configuration they accept', () => {
    expect(() => loadConfig(apiConfigSchema, serviceEnv('api'))).not.toThrow();
    expect(() => loadConfig(agentConfigSchema, serviceEnv('agent'))).not.toThrow();
  });

  it('runs in development mode, as README says', () => {
    expect(loadConfig(apiConfigSchema, serviceEnv('api')).NODE_ENV).toBe('development');
  });

  it('runs the compiled JavaScript the image builds, with plain node', () => {
    for (const name of ['api', 'agent']) {
      const [command, entry] = compose.services[name]?.command ?? [];
      expect(command).toBe('node');
      expect(entry).toMatch(/^dist\/.+\.js$/);
      const source = (entry ?? '').replace(/^dist\//, '').replace(/\.js$/, '.ts');
      expect(existsSync(join(PROJECT_ROOT, source)), `${source} compiles to ${entry}`).toBe(true);
    }
  });
});

describe('docker compose, scale profile', () => {
  const scale = Object.entries(compose.services).filter(([, service]) =>
    service.profiles?.includes('scale'),
  );
  const api = (name: string) => loadConfig(apiConfigSchema, serviceEnv(name));
  const agent = (name: string) => loadConfig(agentConfigSchema, serviceEnv(name));

  it('keeps the default stack out of the profile and the profile out of the default stack', () => {
    expect(scale.map(([name]) => name).sort()).toEqual(
      ['agent-1', 'agent-2', 'api-scaled', 'livekit-1', 'livekit-2', 'proxy', 'redis'].sort(),
    );
    for (const name of ['livekit', 'api', 'agent']) {
      expect(compose.services[name]?.profiles).toBeUndefined();
    }
  });

  it('runs two API replicas on Redis, behind the proxy, trusting its forwarded address', () => {
    expect(compose.services['api-scaled']?.deploy?.replicas).toBe(2);
    expect(api('api-scaled')).toMatchObject({
      REDIS_URL: 'redis://redis:6379',
      TRUST_PROXY: 1,
      NODE_ENV: 'development',
    });
    expect(compose.configs.caddyfile?.content).toContain('dynamic a api-scaled 8000');
  });

  it('runs two LiveKit nodes on Redis, with their webhooks to the proxy', () => {
    for (const name of ['livekit-1', 'livekit-2']) {
      const command = compose.services[name]?.command?.join(' ') ?? '';
      expect(command).toContain('--redis-host redis:6379');
      expect(command).toContain('http://proxy:8000/api/livekit/webhook');
    }
  });

  it('runs one agent worker per LiveKit node, reporting through the proxy', () => {
    expect(agent('agent-1')).toMatchObject({ LIVEKIT_URL: 'ws://livekit-1:7980' });
    expect(agent('agent-2')).toMatchObject({ LIVEKIT_URL: 'ws://livekit-2:7990' });
    for (const name of ['agent-1', 'agent-2']) {
      expect(agent(name).API_URL).toBe('http://proxy:8000');
    }
  });
});
